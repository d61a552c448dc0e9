-- bank.verify_ledger: `timebank ledger verify`: the ledger's invariants (0004, L1-L12),
-- R6's "exactly once" and R19's reversals, re-derived from the immutable transfers and
-- the services, not taken from the running totals. One row per check, in
-- order; `problem` is NULL when the check holds, otherwise it names the
-- first broken account, transfer or service. Run it in a REPEATABLE READ
-- transaction for one consistent snapshot.
--
-- Issue 18: full (`--full`) re-derives every balance from every transfer
-- and every daily balance snapshot (0033) from the transfers of its day
-- and the day before's snapshot. Incremental (the default of `timebank
-- ledger verify`) starts from the last snapshot a verified run checked
-- (bank.ledger_verify_run.snapshot_day): it checks the snapshots taken
-- since, each from the one before and its day's transfers; every
-- account's totals against the latest snapshot plus the transfers after
-- it; and transfer by transfer only the transfers created since the
-- verified snapshot's day ended, and the services they, or a service
-- still unfinished, concern. So what it costs grows with the accounts and
-- the days since the last verified run, not with the years of history; a
-- snapshot or transfer altered before the verified point is found by
-- `--full` only (run it, say, weekly). Without a verified snapshot an
-- incremental run is a full one (bank.ledger_verify_scope).

-- What a run covers: its mode (incremental falls back to full when no
-- verified run checked a snapshot), the verified snapshot day it starts
-- from, and the latest snapshot day it checks.
CREATE OR REPLACE FUNCTION bank.ledger_verify_scope(full_run boolean)
RETURNS TABLE (mode text, from_day date, snapshot_day date)
LANGUAGE sql STABLE AS $$
    WITH latest AS (SELECT max(s.day) AS day FROM bank.balance_snapshot_day s),
    verified AS (SELECT r.snapshot_day AS day FROM bank.ledger_verify_run r
                  WHERE r.verified AND r.snapshot_day IS NOT NULL AND NOT full_run ORDER BY r.id DESC LIMIT 1)
    SELECT CASE WHEN v.day IS NULL THEN 'full' ELSE 'incremental' END, v.day, l.day
      FROM latest l LEFT JOIN verified v ON v.day <= l.day
$$;

-- work_mem: a full run's aggregations (every account's transfers, every
-- snapshot row) hash in memory instead of spilling to disk.
CREATE OR REPLACE FUNCTION bank.verify_ledger(full_run boolean DEFAULT true) RETURNS TABLE (check_name text, problem text)
LANGUAGE plpgsql SET work_mem = '256MB' AS $$
DECLARE
    scope record;
    -- Transfers created from then on are checked one by one; the services they concern with them.
    since timestamptz;
    -- The snapshot the derived totals start from (none in a full run: every transfer is summed).
    base date;
    first_day date := (SELECT min(s.day) FROM bank.balance_snapshot_day s);
    -- The snapshot days this run checks, and where their transfers begin.
    chain_lo date;
    chain_hi date;
    chain_since timestamptz;
BEGIN
    SELECT * INTO scope FROM bank.ledger_verify_scope(full_run);
    since := coalesce(bank.day_end(scope.from_day), '-infinity');
    base := CASE WHEN scope.mode = 'incremental' THEN scope.snapshot_day END;
    CREATE TEMP TABLE IF NOT EXISTS derived_totals (
        account_id bigint PRIMARY KEY, d_pending bigint, d_posted bigint, c_pending bigint, c_posted bigint, earned bigint
    ) ON COMMIT DROP;
    TRUNCATE derived_totals;
    IF base IS NULL THEN
        INSERT INTO derived_totals
        SELECT account_id, sum(d_pending), sum(d_posted), sum(c_pending), sum(c_posted), NULL
          FROM (SELECT t.debit_account_id AS account_id,
                       CASE WHEN t.phase = 'pending' AND NOT EXISTS (SELECT 1 FROM bank.transfer r WHERE r.pending_id = t.id)
                            THEN t.amount ELSE 0 END AS d_pending,
                       CASE WHEN t.phase IN ('posted', 'post_pending') THEN t.amount ELSE 0 END AS d_posted,
                       0 AS c_pending, 0 AS c_posted
                  FROM bank.transfer t
                UNION ALL
                SELECT t.credit_account_id, 0, 0,
                       CASE WHEN t.phase = 'pending' AND NOT EXISTS (SELECT 1 FROM bank.transfer r WHERE r.pending_id = t.id)
                            THEN t.amount ELSE 0 END,
                       CASE WHEN t.phase IN ('posted', 'post_pending') THEN t.amount ELSE 0 END
                  FROM bank.transfer t) m
         GROUP BY account_id;
    ELSE
        -- The latest snapshot (checked below against the verified one) plus every transfer after it.
        INSERT INTO derived_totals
        SELECT m.account_id, sum(m.d_pending), sum(m.d_posted), sum(m.c_pending), sum(m.c_posted), sum(m.earned)
          FROM (SELECT s.account_id, s.debits_pending AS d_pending, s.debits_posted AS d_posted, s.credits_pending AS c_pending,
                       s.credits_posted AS c_posted, s.earned_minutes AS earned
                  FROM bank.balance_snapshot s WHERE s.day = base
                UNION ALL
                SELECT v.account_id, v.d_pending, v.d_posted, v.c_pending, v.c_posted, v.earned
                  FROM bank.transfer_moves(bank.day_end(base), 'infinity') v) m
         GROUP BY m.account_id;
    END IF;
    ANALYZE derived_totals;
    -- The services checked one by one: every one (full), or those of the
    -- transfers since, and those not yet settled nor released (incremental).
    CREATE TEMP TABLE IF NOT EXISTS checked_service (id bigint PRIMARY KEY) ON COMMIT DROP;
    TRUNCATE checked_service;
    IF since = '-infinity' THEN
        INSERT INTO checked_service SELECT s.id FROM bank.service s;
    ELSE
        INSERT INTO checked_service
        SELECT t.service_id FROM bank.transfer t WHERE t.created_at >= since AND t.service_id IS NOT NULL
        UNION SELECT s.id FROM bank.transfer h JOIN bank.service s ON s.hold_transfer_id = h.id
               WHERE h.created_at >= since AND h.kind = 'service_hold'
        UNION SELECT s.id FROM bank.service s WHERE s.settled_at IS NULL AND s.hold_released_at IS NULL;
    END IF;
    ANALYZE checked_service;

    -- Issue 18: the snapshots since the verified one (all in a full run), each
    -- the day before's plus the transfers of its day; days in order, none
    -- skipped. One aggregation per (day, account) of the snapshot rows, the
    -- day before's rows and the day's transfers (no join of the snapshots
    -- with themselves): its cost is the snapshot rows and transfers checked.
    SELECT min(d.day), max(d.day) INTO chain_lo, chain_hi FROM bank.balance_snapshot_day d
     WHERE scope.from_day IS NULL OR d.day > scope.from_day;
    chain_since := CASE WHEN chain_lo = first_day THEN '-infinity' ELSE bank.day_end(chain_lo - 1) END;

    check_name := 'snapshots: every day''s balances are the day before''s plus its transfers';
    problem := NULL;
    IF chain_lo IS NOT NULL THEN
        SELECT format('the snapshot of %s for account %s holds debits %s/%s credits %s/%s earned %s posted transfers %s; the day before''s and its transfers make %s/%s, %s/%s, %s, %s',
                      g.day, g.account_id, g.a_dp, g.a_dd, g.a_cp, g.a_cd, g.a_e, g.a_n,
                      coalesce(g.e_dp, 0), coalesce(g.e_dd, 0), coalesce(g.e_cp, 0), coalesce(g.e_cd, 0), coalesce(g.e_e, 0), coalesce(g.e_n, 0))
          INTO problem
          FROM (SELECT m.day, m.account_id, count(*) FILTER (WHERE m.actual) AS rows,
                       sum(m.d_pending) FILTER (WHERE m.actual) AS a_dp, sum(m.d_posted) FILTER (WHERE m.actual) AS a_dd,
                       sum(m.c_pending) FILTER (WHERE m.actual) AS a_cp, sum(m.c_posted) FILTER (WHERE m.actual) AS a_cd,
                       sum(m.earned) FILTER (WHERE m.actual) AS a_e, sum(m.posted) FILTER (WHERE m.actual) AS a_n,
                       sum(m.d_pending) FILTER (WHERE NOT m.actual) AS e_dp, sum(m.d_posted) FILTER (WHERE NOT m.actual) AS e_dd,
                       sum(m.c_pending) FILTER (WHERE NOT m.actual) AS e_cp, sum(m.c_posted) FILTER (WHERE NOT m.actual) AS e_cd,
                       sum(m.earned) FILTER (WHERE NOT m.actual) AS e_e, sum(m.posted) FILTER (WHERE NOT m.actual) AS e_n
                  FROM (SELECT s.day, s.account_id, s.debits_pending AS d_pending, s.debits_posted AS d_posted,
                               s.credits_pending AS c_pending, s.credits_posted AS c_posted, s.earned_minutes AS earned,
                               s.posted_transfers AS posted, true AS actual
                          FROM bank.balance_snapshot s WHERE s.day BETWEEN chain_lo AND chain_hi
                        UNION ALL
                        SELECT s.day + 1, s.account_id, s.debits_pending, s.debits_posted, s.credits_pending, s.credits_posted,
                               s.earned_minutes, s.posted_transfers, false
                          FROM bank.balance_snapshot s WHERE s.day BETWEEN chain_lo - 1 AND chain_hi - 1
                        UNION ALL
                        SELECT greatest(v.day, first_day), v.account_id, v.d_pending, v.d_posted, v.c_pending, v.c_posted,
                               v.earned, v.posted, false
                          FROM bank.transfer_moves(chain_since, bank.day_end(chain_hi)) v) m
                 GROUP BY m.day, m.account_id) g
         WHERE g.rows <> 1
            OR (g.a_dp, g.a_dd, g.a_cp, g.a_cd, g.a_e, g.a_n)
               IS DISTINCT FROM (coalesce(g.e_dp, 0), coalesce(g.e_dd, 0), coalesce(g.e_cp, 0), coalesce(g.e_cd, 0), coalesce(g.e_e, 0), coalesce(g.e_n, 0))
         ORDER BY g.day, g.account_id LIMIT 1;
    END IF;
    RETURN NEXT;

    check_name := 'snapshots: every day''s count of transfers and of granted minutes is the day before''s plus its own';
    problem := NULL;
    IF chain_lo IS NOT NULL THEN
        WITH own AS (
            SELECT greatest((t.created_at AT TIME ZONE 'Asia/Shanghai')::date, first_day) AS day, count(*) AS transfers,
                   coalesce(sum(t.amount) FILTER (WHERE t.kind = 'grant'), 0) AS granted
              FROM bank.transfer t
             WHERE t.created_at >= chain_since AND t.created_at < bank.day_end(chain_hi)
             GROUP BY 1)
        SELECT format('the snapshot of %s counts %s transfers and %s granted minutes, ends at %s; the day before''s and its own make %s and %s, and it ends at %s',
                      d.day, d.transfers, d.granted_minutes, d.cutoff, coalesce(p.transfers, 0) + coalesce(o.transfers, 0),
                      coalesce(p.granted_minutes, 0) + coalesce(o.granted, 0), bank.day_end(d.day))
          INTO problem
          FROM bank.balance_snapshot_day d
          LEFT JOIN bank.balance_snapshot_day p ON p.day = d.day - 1
          LEFT JOIN own o ON o.day = d.day
         WHERE d.day BETWEEN chain_lo AND chain_hi
           AND ((d.transfers, d.granted_minutes, d.cutoff)
                IS DISTINCT FROM (coalesce(p.transfers, 0) + coalesce(o.transfers, 0), coalesce(p.granted_minutes, 0) + coalesce(o.granted, 0),
                                  bank.day_end(d.day))
                OR (p.day IS NULL AND d.day <> first_day))
         ORDER BY d.day LIMIT 1;
    END IF;
    RETURN NEXT;

    -- The clearing account keeps no totals (0029): its row holds 0, and L5-L7 check what its transfers sum to.
    check_name := 'L4 account totals equal the sums of their transfers';
    SELECT format('account %s holds debits %s/%s credits %s/%s (pending/posted), its transfers sum to %s/%s and %s/%s',
                  a.id, a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted,
                  coalesce(d.d_pending, 0), coalesce(d.d_posted, 0), coalesce(d.c_pending, 0), coalesce(d.c_posted, 0))
      INTO problem
      FROM bank.account a LEFT JOIN derived_totals d ON d.account_id = a.id AND a.kind <> 'service_clearing'
     WHERE (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
           IS DISTINCT FROM (coalesce(d.d_pending, 0), coalesce(d.d_posted, 0), coalesce(d.c_pending, 0), coalesce(d.c_posted, 0))
     ORDER BY a.id LIMIT 1;
    RETURN NEXT;

    check_name := 'L5 double entry: debits equal credits';
    SELECT CASE WHEN sum(d_posted) <> sum(c_posted) OR sum(d_pending) <> sum(c_pending)
                THEN format('posted debits %s, credits %s; pending debits %s, credits %s',
                            sum(d_posted), sum(c_posted), sum(d_pending), sum(c_pending)) END
      INTO problem FROM derived_totals;
    RETURN NEXT;

    check_name := 'L6 no account but a grant account below zero available';
    SELECT format('account %s (%s) has %s minutes available', a.id, a.kind, d.c_posted - d.d_posted - d.d_pending)
      INTO problem
      FROM derived_totals d JOIN bank.account a ON a.id = d.account_id
     WHERE a.kind <> 'district_grant' AND d.c_posted - d.d_posted - d.d_pending < 0
     ORDER BY a.id LIMIT 1;
    RETURN NEXT;

    check_name := 'L7 total coins equal total granted';
    SELECT CASE WHEN held <> granted OR issued <> granted
                THEN format('accounts hold %s minutes, grant accounts issued %s, grants sum to %s', held, issued, granted) END
      INTO problem
      FROM (SELECT coalesce(sum(d.c_posted - d.d_posted) FILTER (WHERE a.kind <> 'district_grant'), 0) AS held,
                   coalesce(sum(d.d_posted - d.c_posted) FILTER (WHERE a.kind = 'district_grant'), 0) AS issued,
                   CASE WHEN base IS NULL THEN (SELECT coalesce(sum(amount), 0) FROM bank.transfer WHERE kind = 'grant')
                        ELSE (SELECT d.granted_minutes FROM bank.balance_snapshot_day d WHERE d.day = base)
                             + (SELECT coalesce(sum(t.amount), 0) FROM bank.transfer t WHERE t.created_at >= bank.day_end(base) AND t.kind = 'grant')
                   END AS granted
              FROM derived_totals d JOIN bank.account a ON a.id = d.account_id) s;
    RETURN NEXT;

    check_name := 'L8 holds resolved at most once, within their amount';
    SELECT format('transfer %s resolves %s, which is not a hold of the same accounts for at least %s minutes',
                  r.id, r.pending_id, r.amount)
      INTO problem
      FROM bank.transfer r JOIN bank.transfer h ON h.id = r.pending_id
     WHERE r.created_at >= since AND (h.phase <> 'pending' OR r.amount > h.amount OR (r.phase = 'void_pending' AND r.amount <> h.amount)
        OR r.debit_account_id <> h.debit_account_id OR r.credit_account_id <> h.credit_account_id)
     ORDER BY r.id LIMIT 1;
    RETURN NEXT;

    check_name := 'R6 every settled service paid exactly once, for its served minutes';
    SELECT format('service %s: settled for %s minutes; payments %s, credits %s, releases %s (minutes %s, %s)',
                  s.id, s.settled_minutes, t.payments, t.credits, t.releases, t.paid, t.credited)
      INTO problem
      FROM checked_service c JOIN bank.service s ON s.id = c.id
      LEFT JOIN LATERAL (
          SELECT count(*) FILTER (WHERE kind = 'service_payment') AS payments,
                 count(*) FILTER (WHERE kind = 'service_credit') AS credits,
                 count(*) FILTER (WHERE kind = 'service_release') AS releases,
                 coalesce(sum(amount) FILTER (WHERE kind = 'service_payment'), 0) AS paid,
                 coalesce(sum(amount) FILTER (WHERE kind = 'service_credit'), 0) AS credited
            FROM bank.transfer WHERE service_id = s.id) t ON true
     WHERE CASE
             WHEN s.settled_at IS NOT NULL AND s.settled_minutes > 0 THEN
                  NOT (t.payments = 1 AND t.credits = 1 AND t.releases = 0 AND t.paid = s.settled_minutes AND t.credited = s.settled_minutes)
             WHEN s.settled_at IS NOT NULL THEN NOT (t.payments = 0 AND t.credits = 0 AND t.releases = 1)
             WHEN s.hold_released_at IS NOT NULL THEN NOT (t.payments = 0 AND t.credits = 0 AND t.releases = 1)
             ELSE t.payments + t.credits + t.releases > 0
           END
        OR (s.settled_at IS NOT NULL AND s.settled_minutes
            <> bank.served_minutes(s.starts_at, s.booked_minutes, s.checked_in_at, s.checked_out_at))
     ORDER BY s.id LIMIT 1;
    RETURN NEXT;

    check_name := 'R6 every checked-out service settled or being settled';
    SELECT format('service %s was checked out at %s and is neither settled nor queued for settlement', s.id, s.checked_out_at)
      INTO problem
      FROM checked_service c JOIN bank.service s ON s.id = c.id
     WHERE s.status = 'checked_out' AND s.settled_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM jobs.job j
                        WHERE j.kind = 'settlement.settle' AND j.unique_key = s.id::text
                          AND j.state IN ('available', 'scheduled', 'running', 'retryable'))
     ORDER BY s.id LIMIT 1;
    RETURN NEXT;

    check_name := 'R16 every open service holds its coins, every ended one released them';
    SELECT format('service %s is %s and its hold %s is %s', s.id, s.status, s.hold_transfer_id,
                  CASE WHEN r.id IS NULL THEN 'still held' ELSE 'resolved by transfer ' || r.id END)
      INTO problem
      FROM checked_service c JOIN bank.service s ON s.id = c.id LEFT JOIN bank.transfer r ON r.pending_id = s.hold_transfer_id
     WHERE (s.status IN ('awaiting_review', 'published', 'booked', 'in_progress') AND r.id IS NOT NULL)
        OR (s.status = 'checked_out' AND (r.id IS NULL) <> (s.settled_at IS NULL))
     ORDER BY s.id LIMIT 1;
    RETURN NEXT;

    check_name := 'L9 earned minutes are service credits less reversals (R11: donations and gifts are not earnings)';
    IF base IS NULL THEN
        SELECT format('account %s counts %s earned minutes; its service credits less reversals are %s', a.id, a.earned_minutes, coalesce(c.total, 0))
          INTO problem
          FROM bank.account a
          LEFT JOIN (SELECT account_id, sum(amount) AS total FROM (
                         SELECT credit_account_id AS account_id, amount FROM bank.transfer WHERE kind = 'service_credit'
                         UNION ALL
                         SELECT debit_account_id, -amount FROM bank.transfer WHERE kind = 'service_reversal') m
                      GROUP BY account_id) c ON c.account_id = a.id
         WHERE a.earned_minutes <> coalesce(c.total, 0)
         ORDER BY a.id LIMIT 1;
    ELSE
        -- Incremental: the earnings of the latest snapshot plus those after it.
        SELECT format('account %s counts %s earned minutes; its service credits less reversals are %s', a.id, a.earned_minutes, coalesce(d.earned, 0))
          INTO problem
          FROM bank.account a LEFT JOIN derived_totals d ON d.account_id = a.id
         WHERE a.earned_minutes <> coalesce(d.earned, 0)
         ORDER BY a.id LIMIT 1;
    END IF;
    RETURN NEXT;

    check_name := 'L10 every milestone reached is recorded once (R12, R13)';
    SELECT format('person %s earned %s minutes but has no %s recorded', a.person_id, a.earned_minutes, m.milestone)
      INTO problem
      FROM bank.account a JOIN bank.milestone_thresholds() m ON a.earned_minutes >= m.minutes
     WHERE a.person_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM bank.volunteer_milestone v WHERE v.person_id = a.person_id AND v.milestone = m.milestone)
     ORDER BY a.id LIMIT 1;
    RETURN NEXT;

    check_name := 'L11 every district''s grants within its budget (R9)';
    SELECT format('district %s, budget %s: %s minutes budgeted, %s counted, grants in the period sum to %s',
                  b.district_code, b.id, b.budget_minutes, b.granted_minutes, coalesce(g.total, 0))
      INTO problem
      FROM bank.district_budget b
      LEFT JOIN LATERAL (
          -- A district's grants are its grant account's debits (transfer_debit_idx), a few among the transfers.
          SELECT sum(t.amount) AS total FROM bank.account d JOIN bank.transfer t ON t.debit_account_id = d.id
           WHERE t.kind = 'grant' AND d.district_code = b.district_code
             AND b.period @> (t.created_at AT TIME ZONE 'Asia/Shanghai')::date) g ON true
     WHERE (since = '-infinity' OR upper(b.period) > (since AT TIME ZONE 'Asia/Shanghai')::date)
       AND (coalesce(g.total, 0) <> b.granted_minutes OR b.granted_minutes > b.budget_minutes)
     ORDER BY b.id LIMIT 1;
    RETURN NEXT;

    check_name := 'L11 every grant made within a budget of its district (R9)';
    SELECT format('grant %s of district %s on %s falls in no budget of the district', t.id, d.district_code,
                  (t.created_at AT TIME ZONE 'Asia/Shanghai')::date)
      INTO problem
      FROM bank.transfer t JOIN bank.account d ON d.id = t.debit_account_id
     WHERE t.kind = 'grant' AND t.created_at >= since
       AND NOT EXISTS (SELECT 1 FROM bank.district_budget b
                        WHERE b.district_code = d.district_code AND b.period @> (t.created_at AT TIME ZONE 'Asia/Shanghai')::date)
     ORDER BY t.id LIMIT 1;
    RETURN NEXT;

    -- Issue 15, finding 1: a grant paid on a request whose arguments were
    -- changed, or on a forged job, matched every total above. Each grant,
    -- welfare grant, gift and donation is its completed request's, to the
    -- letter (payer, payee, amount, category), and a grant goes to an
    -- authenticated elder of the granting district within grant_max_coins.
    check_name := 'R9 R10 R8 every grant, gift and donation is its request''s, to the letter';
    SELECT format('%s %s of %s minutes: %s', t.kind, t.id, t.amount,
                  CASE WHEN r.id IS NULL THEN 'no request of its kind'
                       WHEN r.status <> 'completed' OR (r.result->>'transfer_id')::bigint IS DISTINCT FROM t.id
                           THEN 'request ' || r.id || ' did not complete with it'
                       WHEN t.kind = 'grant' AND NOT EXISTS (SELECT 1 FROM bank.elder e WHERE e.person_id = c.person_id)
                           THEN 'paid to person ' || c.person_id || ', who is no authenticated elder'
                       WHEN t.kind = 'grant' AND t.amount > bank.setting('grant_max_coins') * 60
                           THEN 'more than grant_max_coins'
                       ELSE 'request ' || r.id || ' asked for something else' END)
      INTO problem
      FROM bank.transfer t
      JOIN bank.account d ON d.id = t.debit_account_id
      JOIN bank.account c ON c.id = t.credit_account_id
      LEFT JOIN bank.request r ON r.id = t.request_id
           AND r.kind = CASE t.kind WHEN 'grant' THEN 'grant_coins' WHEN 'welfare_grant' THEN 'grant_from_welfare'
                                    WHEN 'gift' THEN 'gift_coins' WHEN 'donation' THEN 'donate_coins' END
     WHERE t.kind IN ('grant', 'welfare_grant', 'gift', 'donation') AND t.created_at >= since
       AND (r.id IS NULL OR r.status <> 'completed' OR (r.result->>'transfer_id')::bigint IS DISTINCT FROM t.id
            OR (r.args->>'minutes')::bigint IS DISTINCT FROM t.amount
            OR (t.kind = 'grant' AND ((r.args->>'elder_id')::bigint IS DISTINCT FROM c.person_id
                                      OR r.args->>'district_code' IS DISTINCT FROM d.district_code
                                      OR r.args->>'category' IS DISTINCT FROM t.grant_category
                                      OR NOT EXISTS (SELECT 1 FROM bank.elder e WHERE e.person_id = c.person_id)
                                      OR t.amount > bank.setting('grant_max_coins') * 60))
            OR (t.kind = 'welfare_grant' AND ((r.args->>'elder_id')::bigint IS DISTINCT FROM c.person_id
                                              OR r.args->>'category' IS DISTINCT FROM t.grant_category))
            OR (t.kind = 'gift' AND ((r.args->>'giver_id')::bigint IS DISTINCT FROM d.person_id
                                     OR (r.args->>'relative_id')::bigint IS DISTINCT FROM c.person_id))
            OR (t.kind = 'donation' AND (r.args->>'person_id')::bigint IS DISTINCT FROM d.person_id))
     ORDER BY t.id LIMIT 1;
    RETURN NEXT;

    check_name := 'L12 every gift between verified lineal relatives (R8)';
    SELECT format('gift %s from account %s to account %s: no verified relationship', t.id, t.debit_account_id, t.credit_account_id)
      INTO problem
      FROM bank.transfer t
      JOIN bank.account d ON d.id = t.debit_account_id
      JOIN bank.account c ON c.id = t.credit_account_id
     WHERE t.kind = 'gift' AND t.created_at >= since AND NOT bank.verified_relatives(d.person_id, c.person_id)
     ORDER BY t.id LIMIT 1;
    RETURN NEXT;

    check_name := 'R19 every reversal is an upheld report''s, for at most the credit';
    SELECT format('reversal %s of service %s: report %s, credited %s, reversed %s', t.id, t.service_id,
                  CASE WHEN x.upheld THEN 'upheld' ELSE 'not upheld' END, c.amount, t.amount)
      INTO problem
      FROM bank.transfer t
      LEFT JOIN bank.service_dispute x ON x.service_id = t.service_id
      LEFT JOIN bank.transfer c ON c.service_id = t.service_id AND c.kind = 'service_credit'
     WHERE t.kind = 'service_reversal' AND t.created_at >= since
       AND (x.upheld IS DISTINCT FROM true OR c.id IS NULL OR t.amount > c.amount OR t.amount <> x.reversed_minutes)
     ORDER BY t.id LIMIT 1;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION bank.verify_ledger(boolean) IS 'The ledger''s invariants re-derived from the transfers (full) or from the last verified balance snapshot (incremental): one row per check, problem NULL when it holds.';

-- Records one `timebank ledger verify`'s outcome (bank.ledger_verify_run),
-- for the console's ledger page. Owner only: the CLI's DBA login calls it.
-- With what it covered (issue 18): its mode, the verified snapshot day it
-- started from and the latest it checked (bank.ledger_verify_scope).
CREATE OR REPLACE FUNCTION bank.record_ledger_verify(checks jsonb, mode text, from_day date, snapshot_day date) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO bank.ledger_verify_run (checks, verified, mode, from_day, snapshot_day)
    VALUES (checks, NOT EXISTS (SELECT 1 FROM jsonb_array_elements(checks) c WHERE c->>'problem' IS NOT NULL), mode, from_day, snapshot_day)
$$;
