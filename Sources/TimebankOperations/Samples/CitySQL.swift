/// The statements of `CityGenerator`, in the order it runs them. Times:
/// the history is [start_at, end_at), end_at today's first instant in
/// Beijing; service `i` (0-based, of `services`) starts at start_at + 3 days
/// + i/services of the rest, less a day, on a whole minute, so services,
/// and their ids, run in time order.
enum CitySQL {
    // $1 months, $2 services, $3 elders, $4 volunteers. A month's grant
    // covers twice its elder's services of a month at their longest (two hours).
    static let parameters = """
        CREATE TEMP TABLE city_params AS
        SELECT $1::int AS months, $2::bigint AS services, $3::int AS elders, $4::int AS volunteers,
               h.end_at - make_interval(months => $1::int) AS start_at, h.end_at,
               60 * least(1000, ceil(2.0 * 2 * $2 / ($3::bigint * $1) + 2))::bigint AS grant_minutes
          -- Real time, not the development clock's: the ledger's transfer times are the database's own (sql/functions/bank/clock.sql).
          FROM (SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date::timestamp AT TIME ZONE 'Asia/Shanghai' AS end_at) h
        """

    static let people: [String] = [
        """
        CREATE TEMP TABLE city_district AS
        SELECT d.code, row_number() OVER (ORDER BY d.code) - 1 AS k, g.id AS grant_account
          FROM bank.district d JOIN bank.account g ON g.district_code = d.code
        """,
        """
        CREATE TEMP TABLE city_category AS
        SELECT c.code, row_number() OVER (ORDER BY c.code) - 1 AS k FROM bank.service_category c
        """,
        // People 1..elders are elders, the rest volunteers, registered in
        // the month before the history; national IDs as SettlementFixture makes them.
        """
        CREATE TEMP TABLE city_person (n int PRIMARY KEY, elder boolean, person_id bigint, account_id bigint, district_code text,
                                       registration bigint, at timestamptz)
        """,
        """
        WITH numbered AS (
            SELECT n, n <= p.elders AS elder, d.code AS district_code,
                   p.start_at - interval '30 days' + n * interval '1 second' AS at,
                   '110105' || to_char(CASE WHEN n <= p.elders THEN date '1950-01-01' ELSE date '1995-01-01' END + (n % 3000)::int, 'YYYYMMDD')
                            || lpad(((n / 3000) % 1000)::text, 3, '0') AS id17
              FROM city_params p CROSS JOIN generate_series(1, p.elders + p.volunteers) AS n
              JOIN city_district d ON d.k = n % (SELECT count(*) FROM city_district)
        ), requests AS (
            INSERT INTO bank.request (kind, args, status, result, created_at, finished_at)
            SELECT 'register_person', jsonb_build_object('city', x.n), 'completed', '{}', x.at, x.at + interval '1 second'
              FROM numbered x ORDER BY x.n
            RETURNING id, (args->>'city')::int AS n
        ), people AS (
            INSERT INTO bank.person (national_id_hash, national_id_encrypted, name, birth_date, gender, beijing_resident, district_code,
                                     request_id, registered_at)
            SELECT public.digest('city:' || x.id17, 'sha256'), '\\x00'::bytea, 'City ' || x.n, bank.national_id_birth_date(x.id17 || '0'),
                   CASE WHEN substr(x.id17, 17, 1)::int % 2 = 1 THEN 'male' ELSE 'female' END, true, x.district_code, r.id,
                   x.at + interval '1 second'
              FROM numbered x JOIN requests r ON r.n = x.n ORDER BY x.n
            RETURNING id, request_id
        )
        INSERT INTO city_person (n, elder, person_id, district_code, registration, at)
        SELECT x.n, x.elder, p.id, x.district_code, p.request_id, x.at + interval '1 second'
          FROM numbered x JOIN requests r ON r.n = x.n JOIN people p ON p.request_id = r.id
        """,
        """
        INSERT INTO bank.elder (person_id, authenticated_at, request_id)
        SELECT person_id, at, registration FROM city_person WHERE elder ORDER BY n
        """,
        """
        INSERT INTO bank.volunteer (person_id, training_completed_on, approved_at, request_id)
        SELECT person_id, (at AT TIME ZONE 'Asia/Shanghai')::date - 10, at, registration FROM city_person WHERE NOT elder ORDER BY n
        """,
        """
        WITH opened AS (
            INSERT INTO bank.account (kind, person_id, opened_at)
            SELECT 'personal', person_id, at FROM city_person ORDER BY n
            RETURNING id, person_id
        )
        UPDATE city_person c SET account_id = o.id FROM opened o WHERE o.person_id = c.person_id
        """,
        // k numbers elders and volunteers from 0 each, as the services pick them.
        "ALTER TABLE city_person ADD COLUMN k int",
        "UPDATE city_person SET k = CASE WHEN elder THEN n - 1 ELSE n - 1 - (SELECT elders FROM city_params) END",
        "CREATE INDEX ON city_person (elder, k)",
        "ANALYZE city_person",
        // R8: every tenth volunteer a verified child of an elder: the givers of gifts.
        """
        WITH pairs AS (
            SELECT v.person_id AS volunteer, e.person_id AS elder, v.at + interval '1 hour' AS at, v.k
              FROM city_person v JOIN city_person e ON e.elder AND e.k = v.k % (SELECT elders FROM city_params)
             WHERE NOT v.elder AND v.k % 10 = 0
        ), declared AS (
            INSERT INTO bank.request (kind, args, status, result, created_at, finished_at)
            SELECT 'declare_relative', jsonb_build_object('person_id', volunteer, 'relative_id', elder, 'relation', 'parent'),
                   'completed', '{}', at, at + interval '1 second'
              FROM pairs ORDER BY k
            RETURNING id, (args->>'person_id')::bigint AS volunteer
        )
        INSERT INTO bank.relationship (person_id, relative_id, relation, declared_at, request_id, verified_at, verified_by, evidence_ref)
        SELECT p.volunteer, p.elder, 'parent', p.at, d.id, p.at + interval '1 day', 'city-staff', 'household register'
          FROM pairs p JOIN declared d ON d.volunteer = p.volunteer ORDER BY p.k
        """,
        // R9: each district's budget covers every grant of the history (twice over).
        """
        WITH budgets AS (
            SELECT d.code, p.grant_minutes * p.months * count(e.n) AS granted,
                   -- Up to the day before yesterday: the last grant is a month before, and the
                   -- days after are free for another budget (SettlementFixture's covers yesterday to tomorrow).
                   daterange((p.start_at AT TIME ZONE 'Asia/Shanghai')::date - 1, (p.end_at AT TIME ZONE 'Asia/Shanghai')::date - 2, '[]') AS period,
                   p.start_at - interval '1 day' AS at
              FROM city_district d CROSS JOIN city_params p
              JOIN city_person e ON e.elder AND e.district_code = d.code
             GROUP BY d.code, p.grant_minutes, p.months, p.start_at, p.end_at
        ), requests AS (
            INSERT INTO bank.request (kind, args, status, result, created_at, finished_at)
            SELECT 'set_district_budget', jsonb_build_object('district_code', code, 'valid_from', lower(period), 'valid_to', upper(period) - 1,
                                                             'minutes', 2 * granted),
                   'completed', '{}', at, at + interval '1 second'
              FROM budgets ORDER BY code
            RETURNING id, args->>'district_code' AS code
        )
        INSERT INTO bank.district_budget (district_code, period, budget_minutes, granted_minutes, request_id)
        SELECT b.code, b.period, 2 * b.granted, b.granted, r.id FROM budgets b JOIN requests r ON r.code = b.code ORDER BY b.code
        """,
    ]

    // $1 the month: each elder's grant at its first hour, with its
    // grant_coins request completed with the transfer (ids taken first).
    static let grants = """
        WITH planned AS (
            SELECT e.k, e.person_id, e.account_id, e.district_code, nextval(pg_get_serial_sequence('bank.request', 'id')) AS request_id,
                   nextval(pg_get_serial_sequence('bank.transfer', 'id')) AS transfer_id,
                   p.grant_minutes, p.start_at + make_interval(months => $1::int) + interval '1 hour' + e.k * interval '1 second' AS at
              FROM (SELECT * FROM city_person WHERE elder ORDER BY k) e CROSS JOIN city_params p
        ), requests AS (
            INSERT INTO bank.request (id, kind, args, status, result, created_at, finished_at) OVERRIDING SYSTEM VALUE
            SELECT request_id, 'grant_coins',
                   jsonb_build_object('elder_id', person_id, 'district_code', district_code, 'category', 'economically_disadvantaged',
                                      'minutes', grant_minutes),
                   'completed', jsonb_build_object('transfer_id', transfer_id), at, at + interval '1 second'
              FROM planned ORDER BY request_id
        )
        INSERT INTO bank.transfer (id, idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, grant_category, request_id, created_at)
        OVERRIDING SYSTEM VALUE
        SELECT e.transfer_id, 'grant:' || e.request_id, 'posted', 'grant', d.grant_account, e.account_id, e.grant_minutes,
               'economically_disadvantaged', e.request_id, e.at + interval '1 second'
          FROM planned e JOIN city_district d ON d.code = e.district_code ORDER BY e.transfer_id
        """

    // $1, $2: the month's services [low, high), with every id they need.
    // Service i: elder i % elders, volunteer i % volunteers (so a
    // volunteer's services are volunteers/services of the span apart:
    // R20 holds), an hour or two booked, 0 to 10 minutes short of it served.
    static let plan = """
        CREATE TEMP TABLE city_plan ON COMMIT DROP AS
        SELECT x.*,
               nextval(pg_get_serial_sequence('bank.request', 'id')) AS publish_request,
               nextval(pg_get_serial_sequence('bank.request', 'id')) AS review_request,
               nextval(pg_get_serial_sequence('bank.request', 'id')) AS book_request,
               nextval(pg_get_serial_sequence('bank.request', 'id')) AS check_in_request,
               nextval(pg_get_serial_sequence('bank.request', 'id')) AS check_out_request,
               nextval(pg_get_serial_sequence('bank.transfer', 'id')) AS hold_id,
               nextval(pg_get_serial_sequence('bank.service', 'id')) AS service_id
          FROM (SELECT i, e.person_id AS elder_id, e.account_id AS elder_account, e.district_code,
                       v.person_id AS volunteer_id, v.account_id AS volunteer_account, c.code AS category_code,
                       s.starts_at, s.booked, s.booked - i % 11 AS served,
                       s.starts_at - interval '2 days' AS published_at,
                       s.starts_at - interval '2 days' + interval '1 hour' AS reviewed_at,
                       s.starts_at - interval '2 days' + interval '3 hours' AS booked_at,
                       s.starts_at + (s.booked - i % 11) * interval '1 minute' AS checked_out_at,
                       s.starts_at + (s.booked - i % 11) * interval '1 minute' + interval '2 seconds' AS settled_at
                  FROM city_params p
                  CROSS JOIN generate_series($1::bigint, $2::bigint - 1) AS i
                  CROSS JOIN LATERAL (
                      SELECT date_trunc('minute', p.start_at + interval '3 days'
                                                  + (i::float8 / p.services) * (p.end_at - p.start_at - interval '4 days')) AS starts_at,
                             CASE WHEN i % 3 = 0 THEN 120 ELSE 60 END AS booked) s
                  JOIN city_person e ON e.elder AND e.k = i % p.elders
                  JOIN city_person v ON NOT v.elder AND v.k = i % p.volunteers
                  JOIN city_category c ON c.k = i % (SELECT count(*) FROM city_category)
                 ORDER BY i) x
        """

    static let services: [String] = [
        "ANALYZE city_plan",
        // The five requests of each service (api.publish_demand, review, book, check in, check out), each completed.
        """
        INSERT INTO bank.request (id, kind, args, status, result, created_at, finished_at) OVERRIDING SYSTEM VALUE
        SELECT id, kind, args, 'completed', result, at, at + interval '1 second' FROM (
            SELECT publish_request AS id, 'publish_demand' AS kind,
                   jsonb_build_object('elder_id', elder_id, 'category_code', category_code, 'district_code', district_code,
                                      'description', 'city service ' || i, 'starts_at', starts_at, 'minutes', booked) AS args,
                   jsonb_build_object('service_id', service_id) AS result, published_at AS at FROM city_plan
            UNION ALL
            SELECT review_request, 'review_demand',
                   jsonb_build_object('service_id', service_id, 'reviewer', 'city-staff', 'approve', true, 'note', NULL),
                   jsonb_build_object('service_id', service_id, 'status', 'published'), reviewed_at - interval '1 second' FROM city_plan
            UNION ALL
            SELECT book_request, 'book_service', jsonb_build_object('service_id', service_id, 'volunteer_id', volunteer_id),
                   jsonb_build_object('service_id', service_id), booked_at - interval '1 second' FROM city_plan
            UNION ALL
            SELECT check_in_request, 'check_in', jsonb_build_object('service_id', service_id, 'volunteer_id', volunteer_id),
                   jsonb_build_object('service_id', service_id, 'checked_in_at', starts_at), starts_at FROM city_plan
            UNION ALL
            SELECT check_out_request, 'check_out', jsonb_build_object('service_id', service_id, 'volunteer_id', volunteer_id),
                   jsonb_build_object('service_id', service_id), checked_out_at FROM city_plan
        ) r ORDER BY id
        """,
        // R16: the hold, placed when the demand was published.
        """
        INSERT INTO bank.transfer (id, idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, request_id, created_at)
        OVERRIDING SYSTEM VALUE
        SELECT hold_id, 'hold:' || publish_request, 'pending', 'service_hold', elder_account,
               (SELECT id FROM bank.account WHERE kind = 'service_clearing'), booked, publish_request, published_at + interval '1 second'
          FROM city_plan ORDER BY hold_id
        """,
        """
        INSERT INTO bank.service (id, request_id, elder_id, category_code, district_code, description, starts_at, ends_at, hold_transfer_id,
                                  status, reviewed_by, reviewed_at, volunteer_id, booked_at, checked_in_at, checked_out_at,
                                  settled_at, settled_minutes)
        OVERRIDING SYSTEM VALUE
        SELECT service_id, publish_request, elder_id, category_code, district_code, 'city service ' || i, starts_at,
               starts_at + booked * interval '1 minute', hold_id, 'checked_out', 'city-staff', reviewed_at, volunteer_id, booked_at,
               starts_at, checked_out_at, settled_at, served
          FROM city_plan ORDER BY service_id
        """,
        // R5: every status each service went through, with its request (service_state_recorded's rows).
        """
        INSERT INTO bank.service_event (service_id, status, request_id, at)
        SELECT service_id, status::bank.service_status, request_id, at FROM (
            SELECT service_id, 'awaiting_review' AS status, publish_request AS request_id, published_at + interval '2 seconds' AS at FROM city_plan
            UNION ALL SELECT service_id, 'published', review_request, reviewed_at FROM city_plan
            UNION ALL SELECT service_id, 'booked', book_request, booked_at FROM city_plan
            UNION ALL SELECT service_id, 'in_progress', check_in_request, starts_at FROM city_plan
            UNION ALL SELECT service_id, 'checked_out', check_out_request, checked_out_at FROM city_plan
        ) e ORDER BY at, service_id
        """,
        // R6: the settlement, as bank.settlement_settle writes it.
        """
        INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, pending_id, service_id, created_at)
        SELECT key, phase::bank.transfer_phase, kind, debit, credit, served, pending, service_id, settled_at FROM (
            SELECT 'settle:' || service_id || ':payment' AS key, 'post_pending' AS phase, 'service_payment' AS kind,
                   elder_account AS debit, (SELECT id FROM bank.account WHERE kind = 'service_clearing') AS credit,
                   served, hold_id AS pending, service_id, settled_at, 0 AS n FROM city_plan
            UNION ALL
            SELECT 'settle:' || service_id || ':credit', 'posted', 'service_credit',
                   (SELECT id FROM bank.account WHERE kind = 'service_clearing'), volunteer_account, served, NULL, service_id, settled_at, 1
              FROM city_plan
        ) t ORDER BY settled_at, service_id, n
        """,
        // The outbox (bank.message_service_events, bank.message_transfers), each message delivered once by SMS.
        """
        WITH messages AS (
            INSERT INTO bank.message (template, recipient_kind, person_id, params, service_id, deliver_after, created_at)
            SELECT template, 'person', person_id, params, service_id, deliver_after, created_at FROM (
                SELECT 'demand_approved' AS template, elder_id AS person_id, NULL::bigint AS service_id,
                       reviewed_at AS deliver_after, reviewed_at AS created_at,
                       jsonb_build_object('service_id', service_id, 'starts_at', bank.local_time_text(starts_at),
                                          'coins', round(booked / 60.0, 2)) AS params
                  FROM city_plan
                UNION ALL
                SELECT 'service_booked', elder_id, NULL, booked_at, booked_at,
                       jsonb_build_object('service_id', service_id, 'starts_at', bank.local_time_text(starts_at), 'coins', round(booked / 60.0, 2))
                  FROM city_plan
                UNION ALL
                SELECT 'booking_confirmed', volunteer_id, NULL, booked_at, booked_at,
                       jsonb_build_object('service_id', service_id, 'starts_at', bank.local_time_text(starts_at))
                  FROM city_plan
                UNION ALL
                SELECT 'service_reminder', volunteer_id, service_id,
                       starts_at - (SELECT value FROM bank.setting WHERE name = 'reminder_minutes_before_service') * interval '1 minute',
                       booked_at, jsonb_build_object('service_id', service_id, 'starts_at', bank.local_time_text(starts_at))
                  FROM city_plan
                UNION ALL
                SELECT 'coins_credited', volunteer_id, NULL, settled_at, settled_at,
                       jsonb_build_object('service_id', service_id, 'minutes', served, 'coins', round(served / 60.0, 2))
                  FROM city_plan
            ) m ORDER BY created_at, person_id
            RETURNING id, deliver_after, created_at
        )
        INSERT INTO bank.delivery_attempt (message_id, message_created_at, channel, started_at, latency_ms, http_status, outcome, worker)
        SELECT id, created_at, 'sms', deliver_after + interval '1 second', 40 + id % 160, 200, 'delivered', 'notification-worker' FROM messages ORDER BY id
        """,
    ]

    // $1 the month (from 1): R8 a gift of a coin from each giving
    // volunteer to their parent, R10 a donation of a coin from every tenth
    // volunteer (k % 10 = 5), at the month's 13th hour, out of what they earned before.
    static let gifts: [String] = [
        """
        WITH planned AS (
            SELECT x.*, nextval(pg_get_serial_sequence('bank.request', 'id')) AS request_id,
                   nextval(pg_get_serial_sequence('bank.transfer', 'id')) AS transfer_id
              FROM (SELECT v.k, v.person_id AS giver, v.account_id AS giver_account, r.relative_id, e.account_id AS relative_account,
                           p.start_at + make_interval(months => $1::int) + interval '12 hours' + v.k * interval '1 second' AS at
                      FROM city_person v JOIN bank.relationship r ON r.person_id = v.person_id
                      JOIN city_person e ON e.person_id = r.relative_id CROSS JOIN city_params p
                     WHERE NOT v.elder AND v.k % 10 = 0 ORDER BY v.k) x
        ), requests AS (
            INSERT INTO bank.request (id, kind, args, status, result, created_at, finished_at) OVERRIDING SYSTEM VALUE
            SELECT request_id, 'gift_coins', jsonb_build_object('giver_id', giver, 'relative_id', relative_id, 'minutes', 60),
                   'completed', jsonb_build_object('transfer_id', transfer_id), at, at + interval '1 second'
              FROM planned ORDER BY request_id
        ), gifts AS (
            INSERT INTO bank.transfer (id, idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, request_id, created_at)
            OVERRIDING SYSTEM VALUE
            SELECT transfer_id, 'gift_coins:' || request_id, 'posted', 'gift', giver_account, relative_account, 60, request_id,
                   at + interval '1 second'
              FROM planned ORDER BY transfer_id
        ), messages AS (
            INSERT INTO bank.message (template, recipient_kind, person_id, params, deliver_after, created_at)
            SELECT 'gift_received', 'person', relative_id, jsonb_build_object('minutes', 60, 'coins', round(60 / 60.0, 2)),
                   at + interval '1 second', at + interval '1 second'
              FROM planned ORDER BY transfer_id
            RETURNING id, deliver_after, created_at
        )
        INSERT INTO bank.delivery_attempt (message_id, message_created_at, channel, started_at, latency_ms, http_status, outcome, worker)
        SELECT id, created_at, 'sms', deliver_after + interval '1 second', 40 + id % 160, 200, 'delivered', 'notification-worker' FROM messages ORDER BY id
        """,
        """
        WITH planned AS (
            SELECT x.*, nextval(pg_get_serial_sequence('bank.request', 'id')) AS request_id,
                   nextval(pg_get_serial_sequence('bank.transfer', 'id')) AS transfer_id
              FROM (SELECT v.k, v.person_id, v.account_id,
                           p.start_at + make_interval(months => $1::int) + interval '12 hours 30 minutes' + v.k * interval '1 second' AS at
                      FROM city_person v CROSS JOIN city_params p WHERE NOT v.elder AND v.k % 10 = 5 ORDER BY v.k) x
        ), requests AS (
            INSERT INTO bank.request (id, kind, args, status, result, created_at, finished_at) OVERRIDING SYSTEM VALUE
            SELECT request_id, 'donate_coins', jsonb_build_object('person_id', person_id, 'minutes', 60),
                   'completed', jsonb_build_object('transfer_id', transfer_id), at, at + interval '1 second'
              FROM planned ORDER BY request_id
        )
        INSERT INTO bank.transfer (id, idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, request_id, created_at)
        OVERRIDING SYSTEM VALUE
        SELECT transfer_id, 'donate_coins:' || request_id, 'posted', 'donation', account_id,
               (SELECT id FROM bank.account WHERE kind = 'public_welfare'), 60, request_id, at + interval '1 second'
          FROM planned ORDER BY transfer_id
        """,
    ]

    static let finish: [String] = [
        // L4, L9: each account's totals and earned minutes, from all its
        // transfers (what transfer_applied adds up statement by statement;
        // the clearing account keeps none: 0029).
        """
        WITH moves AS (
            SELECT t.debit_account_id AS account_id,
                   CASE t.phase WHEN 'pending' THEN t.amount WHEN 'posted' THEN 0 ELSE -h.amount END AS d_pending,
                   CASE WHEN t.phase IN ('posted', 'post_pending') THEN t.amount ELSE 0 END AS d_posted,
                   0::bigint AS c_pending, 0::bigint AS c_posted,
                   CASE WHEN t.kind = 'service_reversal' THEN -t.amount ELSE 0 END AS earned
              FROM bank.transfer t LEFT JOIN bank.transfer h ON h.id = t.pending_id
            UNION ALL
            SELECT t.credit_account_id, 0, 0,
                   CASE t.phase WHEN 'pending' THEN t.amount WHEN 'posted' THEN 0 ELSE -h.amount END,
                   CASE WHEN t.phase IN ('posted', 'post_pending') THEN t.amount ELSE 0 END,
                   CASE WHEN t.kind = 'service_credit' THEN t.amount ELSE 0 END
              FROM bank.transfer t LEFT JOIN bank.transfer h ON h.id = t.pending_id
        ), totals AS (
            SELECT account_id, sum(d_pending) AS d_pending, sum(d_posted) AS d_posted, sum(c_pending) AS c_pending,
                   sum(c_posted) AS c_posted, sum(earned) AS earned
              FROM moves GROUP BY account_id
        )
        UPDATE bank.account a
           SET debits_pending = t.d_pending, debits_posted = t.d_posted, credits_pending = t.c_pending, credits_posted = t.c_posted,
               earned_minutes = t.earned
          FROM totals t WHERE a.id = t.account_id AND a.kind <> 'service_clearing'
        """,
        // L10 (R12, R13): each milestone at the credit that crossed it, with its message.
        """
        WITH earned AS (
            SELECT t.credit_account_id AS account_id, t.created_at, t.amount,
                   sum(t.amount) OVER (PARTITION BY t.credit_account_id ORDER BY t.created_at, t.id) AS total
              FROM bank.transfer t WHERE t.kind = 'service_credit'
        ), reached AS (
            INSERT INTO bank.volunteer_milestone (person_id, milestone, reached_at, earned_minutes)
            SELECT a.person_id, m.milestone, e.created_at, e.total
              FROM earned e JOIN bank.account a ON a.id = e.account_id
              JOIN bank.milestone_thresholds() m ON e.total >= m.minutes AND e.total - e.amount < m.minutes
             ORDER BY e.created_at, a.person_id
            RETURNING person_id, milestone, reached_at, earned_minutes
        ), messages AS (
            INSERT INTO bank.message (template, recipient_kind, person_id, params, deliver_after, created_at)
            SELECT 'milestone_reached', 'person', person_id, jsonb_build_object('milestone', milestone, 'coins', earned_minutes / 60),
                   reached_at, reached_at
              FROM reached ORDER BY reached_at, person_id
            RETURNING id, deliver_after, created_at
        )
        INSERT INTO bank.delivery_attempt (message_id, message_created_at, channel, started_at, latency_ms, http_status, outcome, worker)
        SELECT id, created_at, 'sms', deliver_after + interval '1 second', 40 + id % 160, 200, 'delivered', 'notification-worker' FROM messages ORDER BY id
        """,
        // The finished jobs the job engine still keeps (a week's): each
        // request's step, each service's settlement, each message's delivery
        // (a statement per kind, each kind and queue as the code enqueues them: JobKindTests reads them).
        """
        INSERT INTO jobs.job (kind, queue, args, state, attempt, run_at, attempted_at, created_at, finalized_at)
        SELECT 'settlement.hold', 'settlement', jsonb_build_object('id', r.id), 'completed', 1, r.created_at, r.created_at, r.created_at,
               r.finished_at
          FROM bank.request r CROSS JOIN city_params p WHERE r.kind = 'publish_demand' AND r.created_at >= p.end_at - interval '7 days' ORDER BY r.id
        """,
        """
        INSERT INTO jobs.job (kind, queue, args, state, attempt, run_at, attempted_at, created_at, finalized_at)
        SELECT 'order.review', 'order', jsonb_build_object('id', r.id), 'completed', 1, r.created_at, r.created_at, r.created_at,
               r.finished_at
          FROM bank.request r CROSS JOIN city_params p WHERE r.kind = 'review_demand' AND r.created_at >= p.end_at - interval '7 days' ORDER BY r.id
        """,
        """
        INSERT INTO jobs.job (kind, queue, args, state, attempt, run_at, attempted_at, created_at, finalized_at)
        SELECT 'order.book', 'order', jsonb_build_object('id', r.id), 'completed', 1, r.created_at, r.created_at, r.created_at,
               r.finished_at
          FROM bank.request r CROSS JOIN city_params p WHERE r.kind = 'book_service' AND r.created_at >= p.end_at - interval '7 days' ORDER BY r.id
        """,
        """
        INSERT INTO jobs.job (kind, queue, args, state, attempt, run_at, attempted_at, created_at, finalized_at)
        SELECT 'order.check_in', 'order', jsonb_build_object('id', r.id), 'completed', 1, r.created_at, r.created_at, r.created_at,
               r.finished_at
          FROM bank.request r CROSS JOIN city_params p WHERE r.kind = 'check_in' AND r.created_at >= p.end_at - interval '7 days' ORDER BY r.id
        """,
        """
        INSERT INTO jobs.job (kind, queue, args, state, attempt, run_at, attempted_at, created_at, finalized_at)
        SELECT 'order.check_out', 'order', jsonb_build_object('id', r.id), 'completed', 1, r.created_at, r.created_at, r.created_at,
               r.finished_at
          FROM bank.request r CROSS JOIN city_params p WHERE r.kind = 'check_out' AND r.created_at >= p.end_at - interval '7 days' ORDER BY r.id
        """,
        """
        INSERT INTO jobs.job (kind, queue, args, state, attempt, run_at, attempted_at, created_at, finalized_at)
        SELECT 'settlement.move', 'settlement', jsonb_build_object('id', r.id), 'completed', 1, r.created_at, r.created_at, r.created_at,
               r.finished_at
          FROM bank.request r CROSS JOIN city_params p WHERE r.kind IN ('gift_coins', 'donate_coins') AND r.created_at >= p.end_at - interval '7 days' ORDER BY r.id
        """,
        """
        INSERT INTO jobs.job (kind, queue, args, state, attempt, run_at, attempted_at, unique_key, created_at, finalized_at)
        SELECT 'settlement.settle', 'settlement', jsonb_build_object('id', s.id), 'completed', 1, s.checked_out_at, s.checked_out_at,
               s.id::text, s.checked_out_at, s.settled_at
          FROM bank.service s CROSS JOIN city_params p WHERE s.checked_out_at >= p.end_at - interval '7 days' ORDER BY s.id
        """,
        """
        INSERT INTO jobs.job (kind, queue, args, state, attempt, run_at, attempted_at, unique_key, limit_key, created_at, finalized_at)
        SELECT 'notify.deliver', 'notifications', jsonb_build_object('id', m.id), 'completed', 1, m.deliver_after, m.deliver_after,
               'deliver:' || m.id, 'channel:' || m.recipient_kind, m.created_at, m.deliver_after + interval '1 second'
          FROM bank.message m CROSS JOIN city_params p WHERE m.created_at >= p.end_at - interval '7 days' ORDER BY m.id
        """,
    ]
}
