-- 0005: services, and the steps each worker takes on people, services and
-- the ledger. Each step is a function run by one worker's role, in the
-- job's transaction; each is idempotent (a retried, duplicated or rescued
-- job finds its work done and changes nothing) because it first locks the
-- request or service it acts on and looks at its state.
--
-- A service's life (the order worker moves status; the settlement worker
-- owns the hold and the payment columns):
--   (hold placed) awaiting_review --approve--> published --book--> booked
--       --check in--> in_progress --check out--> checked_out --(settled)
--   awaiting_review --reject--> rejected            (hold released)
--   awaiting_review|published|booked --cancel--> cancelled   (hold released)
--   published --(start passes unbooked)--> expired  (hold released)
--   booked --(start + grace passes, no check-in)--> no_show (hold released)

CREATE TABLE bank.service_item (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL: a city-wide item, offered in every district.
    district_code   text REFERENCES bank.district,
    category_code   text NOT NULL REFERENCES bank.service_category,
    name_zh         text NOT NULL CONSTRAINT item_named CHECK (length(name_zh) BETWEEN 1 AND 100),
    name_en         text,
    default_minutes integer NOT NULL CONSTRAINT item_length_positive CHECK (default_minutes > 0),
    request_id      bigint NOT NULL CONSTRAINT item_one_per_request UNIQUE REFERENCES bank.request,
    -- An item's name is unique within its district (or city-wide).
    CONSTRAINT item_named_once UNIQUE NULLS NOT DISTINCT (district_code, name_zh)
);
COMMENT ON TABLE bank.service_item IS 'R15: service items a district defines within the R14 categories (district NULL: city-wide), with a default length. 区级服务项目';

CREATE TYPE bank.service_status AS ENUM (
    'awaiting_review', 'published', 'rejected', 'booked', 'in_progress', 'checked_out', 'cancelled', 'expired', 'no_show'
);

CREATE TABLE bank.service (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The publish request; a retried job finds the service it created.
    request_id       bigint NOT NULL CONSTRAINT service_one_per_request UNIQUE REFERENCES bank.request,
    elder_id         bigint NOT NULL REFERENCES bank.elder,
    category_code    text NOT NULL REFERENCES bank.service_category,
    district_code    text NOT NULL REFERENCES bank.district,
    description      text NOT NULL CONSTRAINT service_description_length CHECK (length(description) BETWEEN 1 AND 500),
    -- The booked time: what the elder's hold pays for.
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    booked_minutes   integer GENERATED ALWAYS AS ((extract(epoch FROM ends_at - starts_at) / 60)::integer) STORED,
    -- R16: the elder's coins held for it (a pending transfer), placed before the service exists.
    hold_transfer_id bigint NOT NULL CONSTRAINT service_one_per_hold UNIQUE REFERENCES bank.transfer,
    status           bank.service_status NOT NULL DEFAULT 'awaiting_review',
    reviewed_by      text,
    reviewed_at      timestamptz,
    review_note      text,
    volunteer_id     bigint REFERENCES bank.volunteer,
    booked_at        timestamptz,
    -- R18: the service time the platform recorded.
    checked_in_at    timestamptz,
    checked_out_at   timestamptz,
    -- Written by the settlement worker only (column privileges below).
    settled_at       timestamptz,
    settled_minutes  integer,
    hold_released_at timestamptz,
    -- R15: the district or city-wide item asked for, if any.
    item_id          bigint REFERENCES bank.service_item,
    -- Where the service takes place (WGS 84), for R17's distances; never shown to volunteers.
    latitude         double precision CONSTRAINT service_latitude_range CHECK (latitude BETWEEN -90 AND 90),
    longitude        double precision CONSTRAINT service_longitude_range CHECK (longitude BETWEEN -180 AND 180),
    CONSTRAINT service_location_whole CHECK ((latitude IS NULL) = (longitude IS NULL)),
    -- Whole minutes, and a real length.
    CONSTRAINT service_times_whole_minutes CHECK (ends_at > starts_at AND extract(second FROM ends_at - starts_at) = 0),
    -- Booked, served and no-show services have their volunteer.
    CONSTRAINT service_booking_has_volunteer CHECK (
        status NOT IN ('booked', 'in_progress', 'checked_out', 'no_show') OR (volunteer_id IS NOT NULL AND booked_at IS NOT NULL)),
    -- R18: a service in progress was checked in; a finished one also out, not before it went in.
    CONSTRAINT service_checked_in CHECK (status NOT IN ('in_progress', 'checked_out') OR checked_in_at IS NOT NULL),
    CONSTRAINT service_checked_out CHECK (
        (status = 'checked_out') = (checked_out_at IS NOT NULL) AND (checked_out_at IS NULL OR checked_out_at >= checked_in_at)),
    -- R6: only a checked-out service is paid, never more than booked.
    CONSTRAINT service_settled_after_check_out CHECK (
        (settled_at IS NULL) = (settled_minutes IS NULL)
        AND (settled_at IS NULL OR (status = 'checked_out' AND settled_minutes BETWEEN 0 AND booked_minutes))),
    -- A hold ends once: paid (settled) or released.
    CONSTRAINT service_hold_ends_once CHECK (settled_at IS NULL OR hold_released_at IS NULL),
    -- R20: one volunteer never holds two bookings whose times overlap,
    -- however many order workers book at once.
    CONSTRAINT service_no_double_booking EXCLUDE USING gist (
        volunteer_id WITH =, tstzrange(starts_at, ends_at) WITH &&
    ) WHERE (status IN ('booked', 'in_progress', 'checked_out'))
);
COMMENT ON TABLE bank.service IS 'Services: an elder''s demand, its review, booking, check-in and check-out (R16-R20), and its settlement (R6). 服务订单';
CREATE INDEX service_elder_idx ON bank.service (elder_id);
CREATE INDEX service_open_idx ON bank.service (district_code, starts_at) WHERE status = 'published';
CREATE INDEX service_published_place_idx ON bank.service (latitude, longitude) WHERE status = 'published';
-- Settling a service changes only columns no index covers (settled_at,
-- settled_minutes), so with room left in each page the update is HOT: no
-- index entry is written, the exclusion constraint's GiST index included.
ALTER TABLE bank.service SET (fillfactor = 85);

ALTER TABLE bank.transfer ADD CONSTRAINT transfer_service_known FOREIGN KEY (service_id) REFERENCES bank.service;

GRANT SELECT, INSERT, UPDATE (status, reviewed_by, reviewed_at, review_note, volunteer_id, booked_at, checked_in_at, checked_out_at)
    ON bank.service TO timebank_order;
GRANT SELECT, UPDATE (settled_at, settled_minutes, hold_released_at) ON bank.service TO timebank_settlement;
GRANT SELECT (id, idempotency_key, service_id, amount) ON bank.transfer TO timebank_order;
GRANT SELECT, INSERT ON bank.service_item TO timebank_order;
GRANT SELECT ON bank.service_item TO timebank_settlement, timebank_enrollment;

-- A refusal: the rule, what is wrong, and the field, as the client sees it.
CREATE FUNCTION bank.refuse(field text, rule text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: %', rule, message
        USING ERRCODE = 'invalid_parameter_value', COLUMN = field, DETAIL = 'field: ' || field;
END
$$;

-- ======================================================================
-- enrollment-worker steps

-- R3: registers a person from a register_person request; a second
-- registration of one national ID is refused by the unique constraint.
CREATE FUNCTION bank.enrollment_register_person(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    person bigint;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.person (national_id, name, phone, birth_date, gender, beijing_resident, district_code, request_id, agent_institution_id)
    VALUES (r.args->>'national_id', r.args->>'name', r.args->>'phone',
            bank.national_id_birth_date(r.args->>'national_id'),
            CASE WHEN substr(r.args->>'national_id', 17, 1)::int % 2 = 1 THEN 'male' ELSE 'female' END,
            (r.args->>'beijing_resident')::boolean, r.args->>'district_code', r.id, r.agent_institution_id)
    ON CONFLICT (national_id) DO NOTHING
    RETURNING id INTO person;
    UPDATE bank.request SET args = args - 'national_id' - 'name' - 'phone' WHERE id = r.id;
    IF person IS NULL THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R3: a person with this national ID is already registered');
        RETURN;
    END IF;
    PERFORM jobs.enqueue('settlement.open_account', jsonb_build_object('id', person), 'settlement');
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('person_id', person));
END
$$;

-- R1: approves a volunteer (the api function checked the rule).
CREATE FUNCTION bank.enrollment_apply_volunteer(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.volunteer (person_id, training_completed_on, request_id)
    VALUES ((r.args->>'person_id')::bigint, (r.args->>'training_completed_on')::date, r.id)
    ON CONFLICT (person_id) DO NOTHING;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('person_id', (r.args->>'person_id')::bigint));
END
$$;

-- R4: records an elder's identity authentication.
CREATE FUNCTION bank.enrollment_authenticate_elder(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.elder (person_id, request_id) VALUES ((r.args->>'person_id')::bigint, r.id)
    ON CONFLICT (person_id) DO NOTHING;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('person_id', (r.args->>'person_id')::bigint));
END
$$;

-- ======================================================================
-- settlement-worker steps: the only writers of the ledger

CREATE FUNCTION bank.settlement_open_account(person bigint) RETURNS void
LANGUAGE sql
BEGIN ATOMIC
    SELECT bank.open_account(person);
END;

-- R9: a district grants coins to a special elder.
CREATE FUNCTION bank.settlement_grant(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    minutes bigint;
    budget bank.district_budget;
    transfer bigint;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    minutes := (r.args->>'minutes')::bigint;
    SELECT * INTO budget FROM bank.district_budget b
     WHERE b.district_code = r.args->>'district_code' AND b.period @> bank.local_today() FOR UPDATE;
    IF budget.id IS NULL OR budget.granted_minutes + minutes > budget.budget_minutes THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R9: the grant exceeds what remains of the district''s budget for this period');
        RETURN;
    END IF;
    UPDATE bank.district_budget SET granted_minutes = granted_minutes + minutes WHERE id = budget.id;
    INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, grant_category, request_id)
    SELECT 'grant:' || r.id, 'posted', 'grant', g.id, bank.open_account((r.args->>'elder_id')::bigint),
           minutes, r.args->>'category', r.id
      FROM bank.account g WHERE g.district_code = r.args->>'district_code'
    RETURNING id INTO transfer;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('transfer_id', transfer));
END
$$;

-- R16: holds the elder's coins for a demand before the service exists,
-- so that two demands cannot spend the same coins: the second hold that
-- would overdraw the account is refused by its constraint (L6).
CREATE FUNCTION bank.settlement_hold(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    violated text;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    BEGIN
        INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, request_id)
        VALUES ('hold:' || r.id, 'pending', 'service_hold', bank.open_account((r.args->>'elder_id')::bigint),
                bank.clearing_account(), (r.args->>'minutes')::bigint, r.id);
    EXCEPTION WHEN check_violation THEN
        GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
        IF violated IS DISTINCT FROM 'account_available_not_negative' THEN RAISE; END IF;
        PERFORM bank.finish_request(r.id, 'refused', NULL,
            'R16: the elder has not enough available coins for this demand (others are held for earlier demands)');
        RETURN;
    END;
    PERFORM jobs.enqueue('order.create_service', jsonb_build_object('id', r.id), 'order');
END
$$;

-- Releases a service's hold whole (rejected, cancelled, expired, no-show).
CREATE FUNCTION bank.settlement_release(wanted bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s bank.service;
BEGIN
    SELECT * INTO s FROM bank.service WHERE id = wanted FOR UPDATE;
    IF s.hold_released_at IS NOT NULL OR s.settled_at IS NOT NULL
       OR s.status NOT IN ('rejected', 'cancelled', 'expired', 'no_show') THEN
        RETURN;
    END IF;
    INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, pending_id, service_id)
    SELECT 'release:' || s.id, 'void_pending', 'service_release', h.debit_account_id, h.credit_account_id, h.amount, h.id, s.id
      FROM bank.transfer h WHERE h.id = s.hold_transfer_id;
    UPDATE bank.service SET hold_released_at = now() WHERE id = s.id;
END
$$;

-- The minutes a service earns (R6, R18): from the later of check-in and
-- the booked start to check-out, in whole minutes rounded down, and never
-- more than booked. Checking in early earns nothing extra (the elder
-- agreed to a time); time beyond the booking is not charged to an elder
-- who held coins for the booked length only; a started minute is not a
-- served one.
CREATE FUNCTION bank.served_minutes(starts_at timestamptz, booked_minutes integer, checked_in_at timestamptz, checked_out_at timestamptz)
RETURNS integer
LANGUAGE sql IMMUTABLE
RETURN least(booked_minutes,
             greatest(0, floor(extract(epoch FROM checked_out_at - greatest(checked_in_at, starts_at)) / 60)))::integer;

-- R6: settles checked-out services, a batch in one statement's worth of
-- transfers: for each, the served minutes of the elder's hold are posted
-- to the clearing account (the rest released) and paid on to the
-- volunteer; a service that earned nothing has its hold released. Exactly
-- once: each service is locked and settled only while settled_at is NULL
-- (a duplicate waits for the first and then finds it settled), and the
-- transfers' idempotency keys would refuse a second payment anyway.
-- Returns the services it settled now.
CREATE FUNCTION bank.settlement_settle(services bigint[]) RETURNS TABLE (service_id bigint, minutes integer, deferred boolean)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bank.account (kind, person_id)
    SELECT DISTINCT 'personal'::bank.account_kind, s.volunteer_id FROM bank.service s
     WHERE s.id = ANY(services) AND s.status = 'checked_out' AND s.settled_at IS NULL
    ON CONFLICT (person_id) DO NOTHING;

    RETURN QUERY
    WITH due AS MATERIALIZED (
        SELECT s.id, s.hold_transfer_id, s.volunteer_id, p.status = 'active' AS payable,
               bank.served_minutes(s.starts_at, s.booked_minutes, s.checked_in_at, s.checked_out_at) AS minutes
          FROM bank.service s JOIN bank.person p ON p.id = s.volunteer_id
         WHERE s.id = ANY(services) AND s.status = 'checked_out' AND s.settled_at IS NULL
         ORDER BY s.id FOR NO KEY UPDATE OF s
    ), settling AS MATERIALIZED (
        SELECT d.id AS service_id, d.minutes, h.id AS hold_id, h.debit_account_id AS elder_account,
               h.amount AS hold_amount, v.id AS volunteer_account
          FROM due d
          JOIN bank.transfer h ON h.id = d.hold_transfer_id
          JOIN bank.account v ON v.person_id = d.volunteer_id
         WHERE d.payable
    ), paid AS (
        INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, pending_id, service_id)
        SELECT 'settle:' || st.service_id || ':payment', 'post_pending'::bank.transfer_phase, 'service_payment',
               st.elder_account, bank.clearing_account(), st.minutes, st.hold_id, st.service_id
          FROM settling st WHERE st.minutes > 0
        UNION ALL
        SELECT 'settle:' || st.service_id || ':credit', 'posted', 'service_credit',
               bank.clearing_account(), st.volunteer_account, st.minutes, NULL, st.service_id
          FROM settling st WHERE st.minutes > 0
        UNION ALL
        SELECT 'settle:' || st.service_id || ':release', 'void_pending', 'service_release',
               st.elder_account, bank.clearing_account(), st.hold_amount, st.hold_id, st.service_id
          FROM settling st WHERE st.minutes = 0
    ), marked AS (
        UPDATE bank.service s SET settled_at = clock_timestamp(), settled_minutes = st.minutes
          FROM settling st WHERE s.id = st.service_id
        RETURNING s.id, st.minutes
    )
    SELECT m.id, m.minutes, false FROM marked m
    UNION ALL
    SELECT d.id, NULL::integer, true FROM due d WHERE NOT d.payable
    ORDER BY 1;
END
$$;

-- ======================================================================
-- order-worker steps

-- A held demand becomes a service awaiting review.
CREATE FUNCTION bank.order_create_service(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    created bigint;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.service (request_id, elder_id, category_code, district_code, description, starts_at, ends_at, hold_transfer_id,
                              item_id, latitude, longitude)
    SELECT r.id, (r.args->>'elder_id')::bigint, r.args->>'category_code', r.args->>'district_code', r.args->>'description',
           (r.args->>'starts_at')::timestamptz,
           (r.args->>'starts_at')::timestamptz + (r.args->>'minutes')::integer * interval '1 minute',
           h.id, (r.args->>'item_id')::bigint, (r.args->>'latitude')::double precision, (r.args->>'longitude')::double precision
      FROM bank.transfer h WHERE h.idempotency_key = 'hold:' || r.id
    ON CONFLICT ON CONSTRAINT service_one_per_request DO NOTHING
    RETURNING id INTO created;
    IF created IS NULL THEN
        SELECT id INTO created FROM bank.service s WHERE s.request_id = r.id;
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', created));
END
$$;

-- Locks the service a request is about, for a step on it.
CREATE FUNCTION bank.locked_service(r bank.request) RETURNS bank.service
LANGUAGE sql AS $$
    SELECT * FROM bank.service WHERE id = (r.args->>'service_id')::bigint FOR UPDATE
$$;

-- R16: staff approve a demand (volunteers can see it) or reject it.
CREATE FUNCTION bank.order_review(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    s bank.service;
    approve boolean;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    s := bank.locked_service(r);
    approve := (r.args->>'approve')::boolean;
    IF s.status <> 'awaiting_review' THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R16: the demand is ' || s.status || ', not awaiting review');
        RETURN;
    END IF;
    UPDATE bank.service
       SET status = CASE WHEN approve THEN 'published' ELSE 'rejected' END::bank.service_status,
           reviewed_by = r.args->>'reviewer', reviewed_at = now(), review_note = r.args->>'note'
     WHERE id = s.id;
    IF approve THEN
        -- Unbooked when it starts: it expires and the hold goes back.
        PERFORM jobs.enqueue('order.expire', jsonb_build_object('id', s.id), 'order', run_at => s.starts_at);
    ELSE
        PERFORM jobs.enqueue('settlement.release', jsonb_build_object('id', s.id), 'settlement');
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', s.id, 'status', CASE WHEN approve THEN 'published' ELSE 'rejected' END));
END
$$;

-- R17, R20: a volunteer books a published service. Two bookings whose
-- times overlap cannot both stand: the exclusion constraint refuses the
-- second, whichever order worker writes it.
CREATE FUNCTION bank.order_book(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    s bank.service;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    s := bank.locked_service(r);
    IF NOT bank.person_active((r.args->>'volunteer_id')::bigint) THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R1: a suspended or closed volunteer books nothing');
        RETURN;
    END IF;
    IF s.status <> 'published' OR s.starts_at <= now() THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R17: the service is no longer open for booking');
        RETURN;
    END IF;
    BEGIN
        UPDATE bank.service SET status = 'booked', volunteer_id = (r.args->>'volunteer_id')::bigint, booked_at = now()
         WHERE id = s.id;
    EXCEPTION WHEN exclusion_violation THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R20: the volunteer has another booking at an overlapping time');
        RETURN;
    END;
    PERFORM jobs.enqueue('order.no_show', jsonb_build_object('id', s.id), 'order',
                         run_at => s.starts_at + bank.setting('no_show_grace_minutes') * interval '1 minute');
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', s.id));
END
$$;

-- R18: check-in, at the time the request reached the platform.
CREATE FUNCTION bank.order_check_in(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    s bank.service;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    s := bank.locked_service(r);
    IF s.status <> 'booked' OR s.volunteer_id <> (r.args->>'volunteer_id')::bigint THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R18: the service is ' || s.status || ', not booked by this volunteer');
        RETURN;
    END IF;
    UPDATE bank.service SET status = 'in_progress', checked_in_at = r.created_at WHERE id = s.id;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', s.id, 'checked_in_at', r.created_at));
END
$$;

-- R18, R6: check-out records the service time and enqueues its
-- settlement in the same transaction: the coins follow for certain.
CREATE FUNCTION bank.order_check_out(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    s bank.service;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    s := bank.locked_service(r);
    IF s.status <> 'in_progress' OR s.volunteer_id <> (r.args->>'volunteer_id')::bigint THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R18: the service is ' || s.status || ', not checked in by this volunteer');
        RETURN;
    END IF;
    UPDATE bank.service SET status = 'checked_out', checked_out_at = greatest(r.created_at, s.checked_in_at) WHERE id = s.id;
    PERFORM jobs.enqueue('settlement.settle', jsonb_build_object('id', s.id), 'settlement', unique_key => s.id::text);
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', s.id));
END
$$;

-- The elder cancels before the service begins; the hold goes back.
CREATE FUNCTION bank.order_cancel(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    s bank.service;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    s := bank.locked_service(r);
    IF s.status NOT IN ('awaiting_review', 'published', 'booked') THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R16: a service that is ' || s.status || ' can no longer be cancelled');
        RETURN;
    END IF;
    UPDATE bank.service SET status = 'cancelled' WHERE id = s.id;
    PERFORM jobs.enqueue('settlement.release', jsonb_build_object('id', s.id), 'settlement');
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', s.id));
END
$$;

-- Scheduled at the start: nobody booked it, so it expires.
CREATE FUNCTION bank.order_expire(wanted bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bank.service SET status = 'expired' WHERE id = wanted AND status = 'published' AND starts_at <= now();
    IF FOUND THEN
        PERFORM jobs.enqueue('settlement.release', jsonb_build_object('id', wanted), 'settlement');
    END IF;
END
$$;

-- Scheduled at the start plus the grace: booked but never checked in.
CREATE FUNCTION bank.order_no_show(wanted bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bank.service SET status = 'no_show'
     WHERE id = wanted AND status = 'booked'
       AND starts_at + bank.setting('no_show_grace_minutes') * interval '1 minute' <= now();
    IF FOUND THEN
        PERFORM jobs.enqueue('settlement.release', jsonb_build_object('id', wanted), 'settlement');
    END IF;
END
$$;

-- Each worker's role runs its own steps and no other's.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA bank FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bank.setting(text), bank.national_id_problem(text), bank.national_id_birth_date(text),
    bank.age(date, date), bank.finish_request(bigint, text, jsonb, text), bank.pending_request(bigint), bank.refuse(text, text, text)
    TO timebank_enrollment, timebank_order, timebank_settlement;
GRANT EXECUTE ON FUNCTION bank.enrollment_register_person(bigint), bank.enrollment_apply_volunteer(bigint),
    bank.enrollment_authenticate_elder(bigint)
    TO timebank_enrollment;
GRANT EXECUTE ON FUNCTION bank.open_account(bigint), bank.clearing_account(), bank.available_minutes(bigint),
    bank.settlement_open_account(bigint), bank.settlement_grant(bigint), bank.settlement_hold(bigint),
    bank.settlement_release(bigint), bank.served_minutes(timestamptz, integer, timestamptz, timestamptz),
    bank.settlement_settle(bigint[]), bank.apply_transfers(), bank.refuse_transfer_change()
    TO timebank_settlement;
GRANT EXECUTE ON FUNCTION bank.order_create_service(bigint), bank.locked_service(bank.request), bank.order_review(bigint),
    bank.order_book(bigint), bank.order_check_in(bigint), bank.order_check_out(bigint), bank.order_cancel(bigint),
    bank.order_expire(bigint), bank.order_no_show(bigint)
    TO timebank_order;
