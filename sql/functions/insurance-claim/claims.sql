-- insurance-claim-worker (timebank_insurance_claim): accident claims
-- (R26): validated against the service record, packaged and signed for
-- the insurer, every delivery attempt recorded; an operator may resend
-- one.

-- R26: validates a report against the record and records the claim,
-- validated or refused with the first reason found.
CREATE OR REPLACE FUNCTION bank.claims_validate(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['report_accident']);
    s record;
    volunteer bigint;
    occurred timestamptz;
    grace interval := bank.setting('claim_grace_minutes') * interval '1 minute';
    insured text;
    reason text;
    claim bigint;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    volunteer := (r.args->>'volunteer_id')::bigint;
    occurred := (r.args->>'occurred_at')::timestamptz;
    SELECT sv.id, sv.status, sv.reviewed_at, sv.volunteer_id, sv.companion_id, sv.checked_in_at, sv.checked_out_at INTO s
      FROM bank.service sv WHERE sv.id = (r.args->>'service_id')::bigint;
    insured := bank.insured_on(volunteer, (occurred AT TIME ZONE 'Asia/Shanghai')::date);
    reason := CASE
        WHEN s.reviewed_at IS NULL OR s.status IN ('awaiting_review', 'rejected')
            THEN 'R26: the service was not published by the time bank'
        WHEN s.volunteer_id IS DISTINCT FROM volunteer AND s.companion_id IS DISTINCT FROM volunteer
            THEN 'R26: the volunteer was not booked on the service'
        WHEN s.checked_in_at IS NULL
            THEN 'R26: the volunteer never checked in'
        WHEN occurred < s.checked_in_at - grace OR occurred > coalesce(s.checked_out_at, bank.clock_now()) + grace
            THEN 'R26: the accident time lies outside the service period'
        WHEN insured IS NULL
            THEN 'R24, R25: the volunteer was not insured on that day'
        END;
    INSERT INTO bank.accident_claim (request_id, service_id, volunteer_id, occurred_at, place, description, documents,
                                     state, refusal, insured_by)
    VALUES (r.id, s.id, volunteer, occurred, r.args->>'place', r.args->>'description',
            ARRAY(SELECT jsonb_array_elements_text(r.args->'documents')),
            CASE WHEN reason IS NULL THEN 'validated' ELSE 'refused' END, reason, CASE WHEN reason IS NULL THEN insured END)
    RETURNING id INTO claim;
    INSERT INTO bank.claim_event (claim_id, state, note, request_id)
    VALUES (claim, CASE WHEN reason IS NULL THEN 'validated' ELSE 'refused' END, reason, r.id);
    IF reason IS NULL THEN
        PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('claim_id', claim));
    ELSE
        PERFORM bank.finish_request(r.id, 'refused', jsonb_build_object('claim_id', claim), reason);
    END IF;
END
$$;

-- The job that sends a validated claim to its insurer, once per claim
-- (unique_key): when it is validated, and when an operator sends it again.
-- Limited per insurer (a rule on 'insurer:' in the claims queue): one slow
-- insurer holds back only its own claims.
-- The unique key is the claim's and its send's: the first send's, then
-- each operator's resend's own ('send:<claim>:<n>', the n-th 'sent again').
-- One key for all would lose a resend made while the job that found the
-- claim undeliverable has ended its handler but not had its end recorded
-- (it is still 'running', so the enqueue would be skipped as a duplicate
-- and the claim left validated with no job). Two jobs never send one claim
-- at once: a claim is undeliverable only once its job's handler has ended.
CREATE OR REPLACE FUNCTION bank.enqueue_claim_send(c bank.accident_claim) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    resends integer := (SELECT count(*) FROM bank.claim_event e WHERE e.claim_id = c.id AND e.note = 'sent again');
BEGIN
    PERFORM jobs.enqueue('claims.send', jsonb_build_object('id', c.id), 'claims',
                         unique_key => 'send:' || c.id || CASE WHEN resends > 0 THEN ':' || resends ELSE '' END,
                         limit_key => 'insurer:' || coalesce(c.insurer_code, bank.claim_insurer(c)));
END
$$;

-- A validated claim goes out at once (claims.send); the volunteer hears of
-- every change of the claim's state (urgent: not held by quiet hours).
CREATE OR REPLACE FUNCTION bank.claim_created() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.state = 'validated' THEN
        PERFORM bank.enqueue_claim_send(NEW);
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER claim_sent_when_validated AFTER INSERT ON bank.accident_claim
    FOR EACH ROW EXECUTE FUNCTION bank.claim_created();

-- R24, R25: the insurer of a claim: Volunteer Beijing for a registered
-- volunteer, else the insurer of the organisation whose policy covered the
-- day; NULL while none is configured.
CREATE OR REPLACE FUNCTION bank.claim_insurer(claim bank.accident_claim) RETURNS text
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
-- The same claim gives the same body on every attempt. Its insurer is
-- fixed here, when the claim is first sent: the callbacks of no other
-- insurer are accepted for it (api.claim_status_callback).
CREATE OR REPLACE FUNCTION bank.claim_package(claim_id bigint)
RETURNS TABLE (state text, insurer_code text, url text, timeout_ms integer, body text, signature text,
               first_attempt_at timestamptz, alerted boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c bank.accident_claim;
    i bank.insurer;
    package jsonb;
BEGIN
    SELECT * INTO c FROM bank.accident_claim WHERE id = claim_package.claim_id;
    IF c.id IS NULL THEN RETURN; END IF;
    SELECT * INTO i FROM bank.insurer WHERE code = coalesce(c.insurer_code, bank.claim_insurer(c));
    IF c.insurer_code IS NULL AND i.code IS NOT NULL THEN
        UPDATE bank.accident_claim a SET insurer_code = i.code WHERE a.id = c.id;
    END IF;
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
CREATE OR REPLACE FUNCTION bank.claims_record_attempt(claim_id bigint, insurer_code text, started_at timestamptz, latency_ms integer,
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
CREATE OR REPLACE FUNCTION bank.claims_resend(claim_id bigint, operator text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    UPDATE bank.accident_claim a SET state = 'validated', unreachable_alerted_at = NULL
     WHERE a.id = claim_id AND a.state = 'undeliverable';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'R26: claim % is not undeliverable', claim_id USING ERRCODE = 'invalid_parameter_value', COLUMN = 'claim_id';
    END IF;
    INSERT INTO bank.claim_event (claim_id, state, note, performed_by) VALUES (claim_id, 'validated', 'sent again', 'operator ' || operator);
    PERFORM bank.enqueue_claim_send(a) FROM bank.accident_claim a WHERE a.id = claim_id;
END
$$;
