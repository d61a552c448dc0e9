-- 0015: R24-R26, second part: claims delivered to insurers, their status
-- callbacks, and the daily export of service records to Volunteer Beijing.
--
-- The contract with insurers is docs/insurer-api.yaml (OpenAPI). Each
-- insurer has an endpoint and a shared secret: we sign what we send with
-- it (HMAC-SHA256 of the body) and accept a status callback only when its
-- signature is the body's HMAC under the same secret. The secret is
-- readable by no worker role: the SECURITY DEFINER functions below sign
-- and verify in the database (pgcrypto's hmac()).

CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE bank.insurer (
    -- volunteer_beijing is R24's: Volunteer Beijing's claim procedure.
    code          text PRIMARY KEY CONSTRAINT insurer_code_form CHECK (code ~ '^[a-z0-9_]{2,40}$'),
    name          text NOT NULL CONSTRAINT insurer_named CHECK (length(name) BETWEEN 1 AND 200),
    -- R25: the volunteer organisations whose confirmed policies it insures
    -- (bank.insurance_policy.organisation).
    organisations text[] NOT NULL DEFAULT '{}',
    -- Where claims are POSTed.
    claims_url    text NOT NULL CONSTRAINT insurer_claims_url_http CHECK (claims_url ~ '^https?://'),
    -- R24: where the daily service records go (Volunteer Beijing only).
    export_url    text CONSTRAINT insurer_export_url_http CHECK (export_url ~ '^https?://'),
    -- The shared secret of both directions' signatures; long enough to
    -- resist guessing.
    secret        text NOT NULL CONSTRAINT insurer_secret_long CHECK (length(secret) >= 16),
    timeout_ms    integer NOT NULL DEFAULT 10000 CONSTRAINT insurer_timeout_sane CHECK (timeout_ms BETWEEN 100 AND 120000),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bank.insurer IS 'R24, R25: insurers and their endpoints and shared secrets (set with `timebank insurers set`). 保险机构';
COMMENT ON COLUMN bank.insurer.secret IS 'The HMAC-SHA256 key both ways; no worker role reads it.';
REVOKE ALL ON bank.insurer FROM PUBLIC;

-- undeliverable: the insurer refused the claim package itself (4xx);
-- supervisors are alerted and an operator may send it again.
ALTER TABLE bank.accident_claim DROP CONSTRAINT claim_state_known, ADD CONSTRAINT claim_state_known CHECK (state IN (
    'validated', 'refused', 'sent', 'received', 'more_documents', 'approved', 'rejected', 'paid', 'undeliverable'));
ALTER TABLE bank.accident_claim
    -- The insurer it went to.
    ADD COLUMN insurer_code text REFERENCES bank.insurer,
    -- When the supervisors were told the insurer stayed unreachable (once).
    ADD COLUMN unreachable_alerted_at timestamptz,
    -- R26: what the insurer approved and paid, in yuan.
    ADD COLUMN approved_amount numeric(12, 2) CONSTRAINT claim_amount_positive CHECK (approved_amount > 0);

ALTER TABLE bank.claim_event
    -- Who made the change when no client request did: the worker, an
    -- insurer (insurer:<code>), an operator.
    ADD COLUMN performed_by text,
    ADD COLUMN amount numeric(12, 2),
    -- The insurer's own id of a callback: the same callback twice is one change.
    ADD COLUMN insurer_event_id text,
    ADD CONSTRAINT claim_event_callback_once UNIQUE (claim_id, insurer_event_id);

-- Every attempt to send a claim package: when, how long, what the insurer answered.
CREATE TABLE bank.claim_delivery_attempt (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    claim_id     bigint NOT NULL REFERENCES bank.accident_claim,
    insurer_code text REFERENCES bank.insurer,
    started_at   timestamptz NOT NULL,
    latency_ms   integer NOT NULL CONSTRAINT claim_attempt_latency_counted CHECK (latency_ms >= 0),
    http_status  integer,
    -- sent (2xx); retry (timeout, 5xx, connection lost, no insurer
    -- configured yet); failed (4xx: the package was refused).
    outcome      text NOT NULL CONSTRAINT claim_attempt_outcome_known CHECK (outcome IN ('sent', 'retry', 'failed')),
    answer       text CONSTRAINT claim_attempt_answer_short CHECK (length(answer) <= 500),
    worker       text NOT NULL
);
COMMENT ON TABLE bank.claim_delivery_attempt IS 'R26: every attempt to send a claim to its insurer. 理赔投递记录';
CREATE INDEX claim_delivery_attempt_claim_idx ON bank.claim_delivery_attempt (claim_id, id);

INSERT INTO bank.setting (name, value, description) VALUES
    ('claim_unreachable_alert_minutes', 60, 'R26 (ours): how long an insurer may stay unreachable before the supervisors are alerted'),
    ('registry_export_chunk', 500, 'R24 (ours): service records per request of the daily export to Volunteer Beijing');

-- A validated claim goes out at once (claims.send); the volunteer hears of
-- every change of the claim's state (urgent: not held by quiet hours).
CREATE FUNCTION bank.claim_created() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.state = 'validated' THEN
        PERFORM jobs.enqueue('claims.send', jsonb_build_object('id', NEW.id), 'claims', unique_key => 'send:' || NEW.id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER claim_sent_when_validated AFTER INSERT ON bank.accident_claim
    FOR EACH ROW EXECUTE FUNCTION bank.claim_created();

CREATE FUNCTION bank.message_claim_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.queue_messages('claim_status', array_agg(c.volunteer_id),
                                array_agg(jsonb_strip_nulls(jsonb_build_object('claim_id', c.id, 'state', e.state, 'amount', e.amount))),
                                true)
      FROM new_events e JOIN bank.accident_claim c ON c.id = e.claim_id
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER claim_event_messages AFTER INSERT ON bank.claim_event
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION bank.message_claim_events();

-- R24, R25: the insurer of a claim: Volunteer Beijing for a registered
-- volunteer, else the insurer of the organisation whose policy covered the
-- day; NULL while none is configured.
CREATE FUNCTION bank.claim_insurer(claim bank.accident_claim) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT i.code FROM bank.insurer i
     WHERE (claim.insured_by = 'volunteer_beijing' AND i.code = 'volunteer_beijing')
        OR (claim.insured_by <> 'volunteer_beijing' AND (
            SELECT p.organisation FROM bank.insurance_policy p
             WHERE p.person_id = claim.volunteer_id AND p.coverage @> (claim.occurred_at AT TIME ZONE 'Asia/Shanghai')::date
             ORDER BY p.confirmed_at DESC LIMIT 1) = ANY (i.organisations))
     ORDER BY i.code LIMIT 1
$$;

-- The claim package (docs/insurer-api.yaml, ClaimPackage) and its
-- signature, for the insurance-claim worker. R23: the claimant appears by
-- the registry's record or the policy, never by national ID, name or phone.
-- The same claim gives the same body on every attempt.
CREATE FUNCTION bank.claim_package(claim_id bigint)
RETURNS TABLE (state text, insurer_code text, url text, timeout_ms integer, body text, signature text,
               first_attempt_at timestamptz, alerted boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c bank.accident_claim;
    i bank.insurer;
    package jsonb;
BEGIN
    SELECT * INTO c FROM bank.accident_claim WHERE id = claim_package.claim_id;
    IF c.id IS NULL THEN RETURN; END IF;
    SELECT * INTO i FROM bank.insurer WHERE code = coalesce(c.insurer_code, bank.claim_insurer(c));
    SELECT jsonb_build_object(
        'claim_id', c.id,
        'idempotency_key', 'claim-' || c.id,
        'reported_at', c.created_at,
        'occurred_at', c.occurred_at,
        'place', c.place,
        'description', c.description,
        'documents', to_jsonb(c.documents),
        'insured', CASE WHEN c.insured_by = 'volunteer_beijing'
            THEN jsonb_build_object('scheme', 'volunteer_beijing',
                                    'registry_record_id', (SELECT r.record_id FROM bank.volunteer_beijing_registration r WHERE r.person_id = c.volunteer_id))
            ELSE (SELECT jsonb_build_object('scheme', 'organisation_policy', 'organisation', p.organisation, 'policy_number', p.policy_number)
                    FROM bank.insurance_policy p
                   WHERE p.person_id = c.volunteer_id AND p.coverage @> (c.occurred_at AT TIME ZONE 'Asia/Shanghai')::date
                   ORDER BY p.confirmed_at DESC LIMIT 1) END,
        'claimant', jsonb_build_object('time_bank_person_id', c.volunteer_id),
        'service', jsonb_build_object(
            'service_id', s.id,
            'published_by', 'Beijing elderly-care time bank',
            'published_at', s.reviewed_at,
            'project', jsonb_build_object('category', sc.code, 'category_name', sc.name_zh, 'item', si.name_zh),
            'district', jsonb_build_object('code', d.code, 'name', d.name_zh),
            'booked', jsonb_build_object('starts_at', s.starts_at, 'ends_at', s.ends_at),
            'checked_in_at', s.checked_in_at,
            'checked_out_at', s.checked_out_at,
            'role', CASE WHEN s.companion_id = c.volunteer_id THEN 'minor_companion' ELSE 'volunteer' END))
      INTO package
      FROM bank.service s
      JOIN bank.service_category sc ON sc.code = s.category_code
      JOIN bank.district d ON d.code = s.district_code
      LEFT JOIN bank.service_item si ON si.id = s.item_id
     WHERE s.id = c.service_id;
    state := c.state;
    insurer_code := i.code;
    url := i.claims_url;
    timeout_ms := i.timeout_ms;
    body := package::text;
    signature := CASE WHEN i.code IS NOT NULL THEN encode(public.hmac(package::text, i.secret, 'sha256'), 'hex') END;
    first_attempt_at := (SELECT min(a.started_at) FROM bank.claim_delivery_attempt a WHERE a.claim_id = c.id);
    alerted := c.unreachable_alerted_at IS NOT NULL;
    RETURN NEXT;
END
$$;

-- Records one attempt to send a claim and what follows from it: sent (the
-- claim moves on), failed (undeliverable: the supervisors are told), retry
-- (after claim_unreachable_alert_minutes of retrying, the supervisors are
-- told, once). Returns the claim's state.
CREATE FUNCTION bank.claims_record_attempt(claim_id bigint, insurer_code text, started_at timestamptz, latency_ms integer,
                                           http_status integer, outcome text, answer text, worker text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    c bank.accident_claim;
    first_attempt timestamptz;
BEGIN
    SELECT * INTO c FROM bank.accident_claim a WHERE a.id = claim_id FOR UPDATE;
    INSERT INTO bank.claim_delivery_attempt (claim_id, insurer_code, started_at, latency_ms, http_status, outcome, answer, worker)
    VALUES (claim_id, insurer_code, started_at, latency_ms, http_status, outcome, left(answer, 500), worker);
    IF c.state <> 'validated' THEN
        RETURN c.state;  -- a resend after a success the worker did not live to record, or a callback came first
    END IF;
    IF outcome = 'sent' THEN
        UPDATE bank.accident_claim a SET state = 'sent', insurer_code = claims_record_attempt.insurer_code WHERE a.id = claim_id;
        INSERT INTO bank.claim_event (claim_id, state, note, performed_by)
        VALUES (claim_id, 'sent', 'to ' || insurer_code, 'insurance-claim-worker');
        RETURN 'sent';
    ELSIF outcome = 'failed' THEN
        UPDATE bank.accident_claim a SET state = 'undeliverable', insurer_code = claims_record_attempt.insurer_code WHERE a.id = claim_id;
        INSERT INTO bank.claim_event (claim_id, state, note, performed_by)
        VALUES (claim_id, 'undeliverable', 'refused by ' || insurer_code || ': HTTP ' || http_status, 'insurance-claim-worker');
        PERFORM bank.alert_supervisors('claim_undeliverable',
            jsonb_build_object('claim_id', claim_id, 'insurer', insurer_code, 'http_status', http_status));
        RETURN 'undeliverable';
    END IF;
    SELECT min(a.started_at) INTO first_attempt FROM bank.claim_delivery_attempt a WHERE a.claim_id = c.id;
    IF c.unreachable_alerted_at IS NULL
       AND first_attempt <= now() - bank.setting('claim_unreachable_alert_minutes') * interval '1 minute' THEN
        UPDATE bank.accident_claim a SET unreachable_alerted_at = now() WHERE a.id = claim_id;
        PERFORM bank.alert_supervisors('insurer_unreachable',
            jsonb_build_object('claim_id', claim_id, 'insurer', coalesce(insurer_code, 'none configured'),
                               'since', bank.local_time_text(first_attempt)));
    END IF;
    RETURN 'validated';
END
$$;

-- An operator sends an undeliverable claim again (after the insurer fixed
-- its side, say).
CREATE FUNCTION bank.claims_resend(claim_id bigint, operator text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    UPDATE bank.accident_claim a SET state = 'validated', unreachable_alerted_at = NULL
     WHERE a.id = claim_id AND a.state = 'undeliverable';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'R26: claim % is not undeliverable', claim_id USING ERRCODE = 'invalid_parameter_value', COLUMN = 'claim_id';
    END IF;
    INSERT INTO bank.claim_event (claim_id, state, note, performed_by) VALUES (claim_id, 'validated', 'sent again', 'operator ' || operator);
    PERFORM jobs.enqueue('claims.send', jsonb_build_object('id', claim_id), 'claims', unique_key => 'send:' || claim_id);
END
$$;

-- R26: an insurer's status callback (docs/insurer-api.yaml, ClaimStatus),
-- as the gateway received it: the insurer's code, the body exactly as
-- sent, and the X-Timebank-Signature header (hex HMAC-SHA256 of the body).
-- A bad signature changes nothing; the same event twice is one change.
-- Returns the claim's state after it.
CREATE FUNCTION api.claim_status_callback(insurer text, body text, signature text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    i bank.insurer;
    payload jsonb;
    c bank.accident_claim;
    new_state text;
    event_id text;
    amount numeric;
    allowed_from text[];
BEGIN
    SELECT * INTO i FROM bank.insurer WHERE code = insurer;
    IF i.code IS NULL OR signature IS NULL OR body IS NULL
       OR lower(signature) <> encode(public.hmac(body, i.secret, 'sha256'), 'hex') THEN
        -- The same answer for an unknown insurer and a wrong signature: nothing to probe.
        RAISE EXCEPTION 'R26: the callback''s signature is not the body''s HMAC under the insurer''s shared secret'
            USING ERRCODE = 'invalid_authorization_specification', COLUMN = 'signature';
    END IF;
    BEGIN
        payload := body::jsonb;
    EXCEPTION WHEN invalid_text_representation THEN
        PERFORM bank.refuse('body', 'R26', 'the callback body is not JSON');
    END;
    event_id := payload->>'event_id';
    IF event_id IS NULL OR length(event_id) NOT BETWEEN 1 AND 100 THEN
        PERFORM bank.refuse('event_id', 'R26', 'a callback names its own event id (1 to 100 characters), which makes it idempotent');
    END IF;
    IF jsonb_typeof(payload->'claim_id') IS DISTINCT FROM 'number' THEN
        PERFORM bank.refuse('claim_id', 'R26', 'a callback names the claim it is about');
    END IF;
    SELECT * INTO c FROM bank.accident_claim WHERE id = (payload->>'claim_id')::bigint FOR UPDATE;
    IF c.id IS NULL OR c.insurer_code IS DISTINCT FROM i.code AND bank.claim_insurer(c) IS DISTINCT FROM i.code THEN
        PERFORM bank.refuse('claim_id', 'R26', 'no claim of this insurer has that id');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.claim_event e WHERE e.claim_id = c.id AND e.insurer_event_id = event_id) THEN
        RETURN c.state;  -- seen before: nothing changes
    END IF;
    new_state := payload->>'status';
    allowed_from := CASE new_state
        WHEN 'received' THEN ARRAY['validated', 'sent']
        WHEN 'more_documents' THEN ARRAY['validated', 'sent', 'received', 'more_documents']
        WHEN 'approved' THEN ARRAY['validated', 'sent', 'received', 'more_documents']
        WHEN 'rejected' THEN ARRAY['validated', 'sent', 'received', 'more_documents']
        WHEN 'paid' THEN ARRAY['approved'] END;
    IF allowed_from IS NULL THEN
        PERFORM bank.refuse('status', 'R26', 'a status is one of received, more_documents, approved, rejected, paid');
    END IF;
    IF NOT c.state = ANY (allowed_from) THEN
        PERFORM bank.refuse('status', 'R26', format('a claim that is %s cannot become %s', c.state, new_state));
    END IF;
    IF new_state IN ('approved', 'paid') THEN
        IF jsonb_typeof(payload->'amount') IS DISTINCT FROM 'number' OR (payload->>'amount')::numeric <= 0
           OR (payload->>'amount')::numeric <> round((payload->>'amount')::numeric, 2) THEN
            PERFORM bank.refuse('amount', 'R26', 'an approval or a payment states its amount in yuan (positive, to the fen)');
        END IF;
        amount := (payload->>'amount')::numeric;
    END IF;
    IF new_state = 'rejected' AND coalesce(length(btrim(payload->>'reason')), 0) NOT BETWEEN 1 AND 1000 THEN
        PERFORM bank.refuse('reason', 'R26', 'a rejection gives its reason (1 to 1000 characters)');
    END IF;
    IF new_state = 'more_documents' AND jsonb_typeof(payload->'documents') IS DISTINCT FROM 'array' THEN
        PERFORM bank.refuse('documents', 'R26', 'a request for documents lists them');
    END IF;
    UPDATE bank.accident_claim a
       SET state = new_state, insurer_code = i.code,
           approved_amount = CASE WHEN new_state = 'approved' THEN amount ELSE a.approved_amount END
     WHERE a.id = c.id;
    INSERT INTO bank.claim_event (claim_id, state, note, performed_by, amount, insurer_event_id)
    VALUES (c.id, new_state,
            left(coalesce(payload->>'reason', (SELECT string_agg(d, ', ') FROM jsonb_array_elements_text(payload->'documents') d)), 1000),
            'insurer:' || i.code, amount, event_id);
    RETURN new_state;
END
$$;

-- A claim's history now names the worker, insurer or operator that made
-- each change no client request made.
CREATE OR REPLACE FUNCTION api.claim_history(claim_id bigint)
RETURNS TABLE (state text, note text, at timestamptz, performed_by text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT e.state, e.note, e.at,
           CASE WHEN e.request_id IS NULL THEN coalesce(e.performed_by, 'system')
                WHEN r.agent_institution_id IS NOT NULL THEN 'agent ' || r.agent_institution_id || ' staff ' || r.agent_staff
                ELSE 'person' END
      FROM bank.claim_event e LEFT JOIN bank.request r ON r.id = e.request_id
     WHERE e.claim_id = claim_history.claim_id
     ORDER BY e.id
$$;

-- R24: what went to Volunteer Beijing, day by day, chunk by chunk: a day
-- interrupted resumes at its first unsent chunk, and a chunk sent twice
-- carries the same idempotency key (export:<day>:<chunk>).
CREATE TABLE bank.registry_export (
    day              date NOT NULL,
    chunk            integer NOT NULL CONSTRAINT export_chunk_counted CHECK (chunk >= 1),
    first_service_id bigint NOT NULL,
    last_service_id  bigint NOT NULL,
    records          integer NOT NULL CONSTRAINT export_records_counted CHECK (records >= 1),
    minutes          bigint NOT NULL,
    sent_at          timestamptz NOT NULL DEFAULT now(),
    http_status      integer NOT NULL,
    latency_ms       integer NOT NULL,
    PRIMARY KEY (day, chunk),
    CONSTRAINT export_chunk_ordered CHECK (first_service_id <= last_service_id)
);
COMMENT ON TABLE bank.registry_export IS 'R24: service records sent to Volunteer Beijing, per day and chunk. 志愿北京数据共享记录';

-- The next unsent chunk of a day's export (services settled that day, in
-- Beijing time, of volunteers registered with Volunteer Beijing), signed;
-- no row when the day is done, url NULL when no endpoint is configured.
CREATE FUNCTION bank.registry_export_next(day date)
RETURNS TABLE (chunk integer, url text, timeout_ms integer, body text, signature text,
               first_service_id bigint, last_service_id bigint, records integer, minutes bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    i bank.insurer;
    after_id bigint;
    rows jsonb;
BEGIN
    SELECT * INTO i FROM bank.insurer WHERE code = 'volunteer_beijing';
    SELECT coalesce(max(e.chunk), 0) + 1, coalesce(max(e.last_service_id), 0) INTO chunk, after_id
      FROM bank.registry_export e WHERE e.day = registry_export_next.day;
    SELECT jsonb_agg(jsonb_build_object('registry_record_id', r.record_id, 'service_id', s.id,
                                        'date', (s.checked_in_at AT TIME ZONE 'Asia/Shanghai')::date,
                                        'category', s.category_code, 'district', s.district_code,
                                        'minutes', s.settled_minutes, 'hours', round(s.settled_minutes / 60.0, 2)) ORDER BY s.id),
           min(s.id), max(s.id), count(*), sum(s.settled_minutes)
      INTO rows, first_service_id, last_service_id, records, minutes
      FROM (SELECT * FROM bank.service sv
             WHERE sv.settled_at >= (day::timestamp AT TIME ZONE 'Asia/Shanghai')
               AND sv.settled_at < ((day + 1)::timestamp AT TIME ZONE 'Asia/Shanghai')
               AND sv.id > after_id
               AND EXISTS (SELECT 1 FROM bank.volunteer_beijing_registration r WHERE r.person_id = sv.volunteer_id)
             ORDER BY sv.id LIMIT bank.setting('registry_export_chunk')) s
      JOIN bank.volunteer_beijing_registration r ON r.person_id = s.volunteer_id;
    IF records = 0 THEN RETURN; END IF;
    url := i.export_url;
    timeout_ms := i.timeout_ms;
    body := jsonb_build_object('day', day, 'chunk', chunk, 'idempotency_key', 'export:' || day || ':' || chunk,
                               'records', rows)::text;
    signature := CASE WHEN i.export_url IS NOT NULL THEN encode(public.hmac(body, i.secret, 'sha256'), 'hex') END;
    RETURN NEXT;
END
$$;

-- Once per day and chunk, whatever the retries.
CREATE FUNCTION bank.registry_export_record(day date, chunk integer, first_service_id bigint, last_service_id bigint,
                                            records integer, minutes bigint, http_status integer, latency_ms integer)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO bank.registry_export (day, chunk, first_service_id, last_service_id, records, minutes, http_status, latency_ms)
    VALUES (day, chunk, first_service_id, last_service_id, records, minutes, http_status, latency_ms)
    ON CONFLICT DO NOTHING
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA bank FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO timebank_api;
GRANT EXECUTE ON FUNCTION bank.claim_package(bigint),
    bank.claims_record_attempt(bigint, text, timestamptz, integer, integer, text, text, text),
    bank.registry_export_next(date), bank.registry_export_record(date, integer, bigint, bigint, integer, bigint, integer, integer),
    bank.local_today()
    TO timebank_insurance_claim;
GRANT SELECT ON bank.claim_delivery_attempt, bank.registry_export TO timebank_insurance_claim;
