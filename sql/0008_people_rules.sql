-- 0008: who people are and who acts for them: insured status (R24, R25),
-- suspension and closure, agent institutions (R5), and a record of who
-- performed every change of a service's state. (The columns and tables
-- these rules need in bank.person, bank.request and bank.agent_* are in
-- 0003; bank.submit, which checks agents and suspensions, is in 0006.)

-- The registry's own role: it fills bank.volunteer_beijing_feed, nothing else.
DO $roles$
BEGIN
    CREATE ROLE timebank_registry NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$roles$;
GRANT USAGE ON SCHEMA bank TO timebank_registry, timebank_api;

-- ======================================================================
-- R24: Volunteer Beijing, the city's registry. A volunteer registered
-- there under a real name and approved is insured.

-- What the registry exports, as it sends it (COPY into this table, or
-- INSERT by the registry's role); the import job reads it, any number of times.
CREATE TABLE bank.volunteer_beijing_feed (
    record_id          text PRIMARY KEY,
    national_id        text NOT NULL,
    real_name_verified boolean NOT NULL,
    approved_on        date,
    received_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bank.volunteer_beijing_feed IS 'R24: records as Volunteer Beijing exports them; imported by enrollment.import_registry. 志愿北京数据';
GRANT INSERT, SELECT ON bank.volunteer_beijing_feed TO timebank_registry;

CREATE TABLE bank.volunteer_beijing_registration (
    person_id   bigint PRIMARY KEY REFERENCES bank.person,
    record_id   text NOT NULL CONSTRAINT registration_one_per_record UNIQUE,
    approved_on date NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bank.volunteer_beijing_registration IS 'R24: volunteers registered under their real name and approved by Volunteer Beijing: insured from approved_on. 志愿北京实名注册';

-- R25: a volunteer not registered there is insured by a policy the
-- volunteer organisation confirms.
CREATE TABLE bank.insurance_policy (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id     bigint NOT NULL REFERENCES bank.person,
    organisation  text NOT NULL CONSTRAINT policy_organisation_named CHECK (length(organisation) BETWEEN 1 AND 200),
    policy_number text NOT NULL CONSTRAINT policy_number_given CHECK (length(policy_number) BETWEEN 1 AND 100),
    coverage      daterange NOT NULL CONSTRAINT policy_coverage_bounded CHECK (NOT isempty(coverage) AND NOT upper_inf(coverage)),
    confirmed_by  text NOT NULL,
    confirmed_at  timestamptz NOT NULL DEFAULT now(),
    request_id    bigint NOT NULL CONSTRAINT policy_one_per_request UNIQUE REFERENCES bank.request,
    CONSTRAINT policy_number_once UNIQUE (organisation, policy_number, person_id)
);
COMMENT ON TABLE bank.insurance_policy IS 'R25: personal accident insurance a volunteer organisation confirmed for a volunteer not registered with Volunteer Beijing. 意外保险';
CREATE INDEX insurance_policy_person_idx ON bank.insurance_policy (person_id);

-- R24, R25: how a person was insured on a day: 'volunteer_beijing',
-- 'policy <organisation> <number>', or NULL (not insured). The
-- insurance-claim worker asks this of the day of an accident.
CREATE FUNCTION bank.insured_on(person bigint, day date) RETURNS text
LANGUAGE sql STABLE
RETURN coalesce(
    (SELECT 'volunteer_beijing' FROM bank.volunteer_beijing_registration r WHERE r.person_id = person AND r.approved_on <= day),
    (SELECT 'policy ' || p.organisation || ' ' || p.policy_number FROM bank.insurance_policy p
      WHERE p.person_id = person AND p.coverage @> day ORDER BY p.confirmed_at DESC LIMIT 1));

-- The import: approved real-name records whose national ID is a registered
-- person; a record seen before changes nothing.
CREATE FUNCTION bank.enrollment_import_registry(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    imported integer;
    unmatched integer;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.volunteer_beijing_registration (person_id, record_id, approved_on)
    SELECT p.id, f.record_id, f.approved_on
      FROM bank.volunteer_beijing_feed f JOIN bank.person p ON p.national_id = f.national_id
     WHERE f.real_name_verified AND f.approved_on IS NOT NULL
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS imported = ROW_COUNT;
    SELECT count(*) INTO unmatched FROM bank.volunteer_beijing_feed f
     WHERE NOT EXISTS (SELECT 1 FROM bank.person p WHERE p.national_id = f.national_id);
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('imported', imported, 'unmatched', unmatched));
END
$$;

CREATE FUNCTION bank.enrollment_confirm_insurance(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    policy bigint;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.insurance_policy (person_id, organisation, policy_number, coverage, confirmed_by, request_id)
    VALUES ((r.args->>'person_id')::bigint, r.args->>'organisation', r.args->>'policy_number',
            daterange((r.args->>'valid_from')::date, (r.args->>'valid_to')::date, '[]'), r.args->>'staff', r.id)
    ON CONFLICT ON CONSTRAINT policy_number_once DO NOTHING
    RETURNING id INTO policy;
    IF policy IS NULL THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R25: this policy is already confirmed for the volunteer');
        RETURN;
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('policy_id', policy));
END
$$;

-- ======================================================================
-- Lifecycle: a suspended person books nothing and is paid nothing new
-- (settlements wait until reinstatement: bank.settlement_settle); a closed
-- person does nothing new, and keeps the history (bank.person.status).

CREATE FUNCTION bank.enrollment_set_status(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    UPDATE bank.person SET status = r.args->>'status', status_reason = r.args->>'reason', status_request_id = r.id
     WHERE id = (r.args->>'person_id')::bigint AND status <> 'closed';
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('person_id', (r.args->>'person_id')::bigint, 'status', r.args->>'status'));
END
$$;

-- Every change of a service's status, with the request that made it
-- (and so who performed it: the person or the agent); NULL for the
-- system's own (expiry, no-show).
CREATE TABLE bank.service_event (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id bigint NOT NULL REFERENCES bank.service,
    status     bank.service_status NOT NULL,
    request_id bigint REFERENCES bank.request,
    at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bank.service_event IS 'R5: every state a service entered, when, and by which request (whose performer the request records). 服务状态记录';
CREATE INDEX service_event_service_idx ON bank.service_event (service_id, id);

-- The request a step is serving, set by the worker for the step's
-- transaction (timebank.request_id); NULL when the system acts.
CREATE FUNCTION bank.record_service_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO bank.service_event (service_id, status, request_id)
        VALUES (NEW.id, NEW.status, nullif(current_setting('timebank.request_id', true), '')::bigint);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER service_state_recorded AFTER INSERT OR UPDATE OF status ON bank.service
    FOR EACH ROW EXECUTE FUNCTION bank.record_service_event();

CREATE FUNCTION bank.enrollment_register_institution(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    institution bigint;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.agent_institution (name, district_code, confirmed_by, confirmation_ref)
    VALUES (r.args->>'name', r.args->>'district_code', r.args->>'confirmed_by', r.args->>'confirmation_ref')
    RETURNING id INTO institution;
    INSERT INTO bank.agent_staff (institution_id, staff_code, name)
    SELECT institution, s->>'code', s->>'name' FROM jsonb_array_elements(r.args->'staff') s;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('institution_id', institution));
END
$$;

-- ======================================================================
-- The api

-- R5: from now on this session acts as the institution's staff member
-- (NULLs: as the person again). Checked here and on every request.
CREATE FUNCTION api.act_as_agent(institution_id bigint, staff_code text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF institution_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM bank.agent_institution i JOIN bank.agent_staff s ON s.institution_id = i.id
         WHERE i.id = act_as_agent.institution_id AND i.withdrawn_at IS NULL AND s.staff_code = act_as_agent.staff_code AND s.active) THEN
        PERFORM bank.refuse('institution_id', 'R5', 'only active staff of a confirmed agent institution act for others');
    END IF;
    PERFORM set_config('timebank.agent_institution', coalesce(institution_id::text, ''), false);
    PERFORM set_config('timebank.agent_staff', coalesce(staff_code, ''), false);
END
$$;

-- R5: staff record an institution a street or township confirmed, with its staff.
CREATE FUNCTION api.register_agent_institution(name text, district_code text, confirmed_by text, confirmation_ref text, staff jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF name IS NULL OR length(btrim(name)) = 0 THEN
        PERFORM bank.refuse('name', 'R5', 'an institution has a name');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.district d WHERE d.code = district_code) THEN
        PERFORM bank.refuse('district_code', 'R5', 'no Beijing district has code ' || coalesce(district_code, 'NULL'));
    END IF;
    IF confirmed_by IS NULL OR length(btrim(confirmed_by)) = 0 OR confirmation_ref IS NULL OR length(btrim(confirmation_ref)) = 0 THEN
        PERFORM bank.refuse('confirmed_by', 'R5', 'an agent institution is confirmed by a street or township, with the act''s reference');
    END IF;
    IF staff IS NULL OR jsonb_typeof(staff) <> 'array' OR jsonb_array_length(staff) = 0
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(staff) s WHERE coalesce(s->>'code', '') = '' OR coalesce(s->>'name', '') = '') THEN
        PERFORM bank.refuse('staff', 'R5', 'an institution names its staff: [{"code": ..., "name": ...}]');
    END IF;
    RETURN bank.submit('register_agent_institution',
        jsonb_build_object('name', btrim(name), 'district_code', district_code, 'confirmed_by', btrim(confirmed_by),
                           'confirmation_ref', btrim(confirmation_ref), 'staff', staff),
        'enrollment.register_institution', 'enrollment');
END
$$;

-- R24: imports what Volunteer Beijing sent (bank.volunteer_beijing_feed); idempotent.
CREATE FUNCTION api.import_volunteer_beijing() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN bank.submit('import_volunteer_beijing', '{}', 'enrollment.import_registry', 'enrollment');
END
$$;

-- R25: the volunteer organisation confirms a personal accident policy.
CREATE FUNCTION api.confirm_insurance(person_id bigint, organisation text, policy_number text, valid_from date, valid_to date, staff text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.person_for('person_id', person_id);
    IF NOT EXISTS (SELECT 1 FROM bank.volunteer v WHERE v.person_id = confirm_insurance.person_id) THEN
        PERFORM bank.refuse('person_id', 'R25', 'insurance is confirmed for volunteers');
    END IF;
    IF organisation IS NULL OR length(btrim(organisation)) = 0 THEN
        PERFORM bank.refuse('organisation', 'R25', 'the volunteer organisation that bought the insurance is named');
    END IF;
    IF policy_number IS NULL OR length(btrim(policy_number)) = 0 THEN
        PERFORM bank.refuse('policy_number', 'R25', 'a confirmation gives the policy number');
    END IF;
    IF valid_from IS NULL OR valid_to IS NULL OR valid_to < valid_from THEN
        PERFORM bank.refuse('valid_to', 'R25', 'a policy''s period ends on or after its first day');
    END IF;
    IF staff IS NULL OR length(btrim(staff)) = 0 THEN
        PERFORM bank.refuse('staff', 'R25', 'the confirming staff member is named');
    END IF;
    RETURN bank.submit('confirm_insurance',
        jsonb_build_object('person_id', person_id, 'organisation', btrim(organisation), 'policy_number', btrim(policy_number),
                           'valid_from', valid_from, 'valid_to', valid_to, 'staff', btrim(staff)),
        'enrollment.confirm_insurance', 'enrollment');
END
$$;

-- R24, R25: insured on a day, and how.
CREATE FUNCTION api.insured_on(person_id bigint, day date) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN bank.insured_on(person_id, day);

-- Suspension, reinstatement, closure, by staff.
CREATE FUNCTION api.set_person_status(person_id bigint, status text, staff text, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p bank.person := bank.person_for('person_id', person_id);
BEGIN
    IF status IS NULL OR status NOT IN ('active', 'suspended', 'closed') THEN
        PERFORM bank.refuse('status', 'R3', 'a person is active, suspended or closed');
    END IF;
    IF p.status = 'closed' THEN
        PERFORM bank.refuse('person_id', 'R3', 'a closed account stays closed; its history is kept');
    END IF;
    IF staff IS NULL OR length(btrim(staff)) = 0 OR reason IS NULL OR length(btrim(reason)) = 0 THEN
        PERFORM bank.refuse('reason', 'R3', 'a change of status names the staff member and the reason');
    END IF;
    IF status = 'closed' AND EXISTS (
        SELECT 1 FROM bank.service s
         WHERE (s.volunteer_id = set_person_status.person_id OR s.elder_id = set_person_status.person_id)
           AND (s.status IN ('awaiting_review', 'published', 'booked', 'in_progress')
                OR (s.status = 'checked_out' AND s.settled_at IS NULL))) THEN
        PERFORM bank.refuse('person_id', 'R3', 'an account with open or unsettled services cannot be closed yet');
    END IF;
    RETURN bank.submit('set_person_status',
        jsonb_build_object('person_id', person_id, 'status', status, 'staff', btrim(staff), 'reason', btrim(reason)),
        'enrollment.set_status', 'enrollment');
END
$$;

-- A service's history: each state, when, and who performed it.
CREATE FUNCTION api.service_history(service_id bigint)
RETURNS TABLE (status text, at timestamptz, performed_by text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT e.status::text, e.at,
           CASE WHEN e.request_id IS NULL THEN 'system'
                WHEN r.agent_institution_id IS NOT NULL THEN 'agent ' || r.agent_institution_id || ' staff ' || r.agent_staff
                ELSE 'person' END
      FROM bank.service_event e LEFT JOIN bank.request r ON r.id = e.request_id
     WHERE e.service_id = service_history.service_id
     ORDER BY e.id
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA bank FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO timebank_api;
GRANT EXECUTE ON FUNCTION bank.enrollment_import_registry(bigint), bank.enrollment_confirm_insurance(bigint),
    bank.enrollment_set_status(bigint), bank.enrollment_register_institution(bigint) TO timebank_enrollment;
GRANT EXECUTE ON FUNCTION bank.record_service_event(), bank.insured_on(bigint, date)
    TO timebank_enrollment, timebank_order, timebank_settlement, timebank_insurance_claim;
GRANT SELECT, INSERT ON bank.volunteer_beijing_registration, bank.insurance_policy TO timebank_enrollment;
GRANT SELECT ON bank.volunteer_beijing_feed TO timebank_enrollment;
GRANT SELECT ON bank.volunteer_beijing_registration, bank.insurance_policy TO timebank_insurance_claim;
GRANT SELECT (id) ON bank.person TO timebank_insurance_claim;
GRANT USAGE ON SCHEMA bank TO timebank_insurance_claim;
GRANT INSERT, SELECT ON bank.service_event TO timebank_order;
