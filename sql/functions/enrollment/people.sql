-- enrollment-worker (timebank_enrollment): people. R3 registration, R1
-- volunteers, R4 elders' authentication, suspension and closure, R5 agent
-- institutions.

-- R1: approves a volunteer (the api function checked the rule).
CREATE OR REPLACE FUNCTION bank.enrollment_apply_volunteer(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['apply_volunteer']);
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.volunteer (person_id, training_completed_on, request_id)
    VALUES ((r.args->>'person_id')::bigint, (r.args->>'training_completed_on')::date, r.id)
    ON CONFLICT (person_id) DO NOTHING;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('person_id', (r.args->>'person_id')::bigint));
END
$$;

-- R4: records an elder's identity authentication.
CREATE OR REPLACE FUNCTION bank.enrollment_authenticate_elder(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['authenticate_elder']);
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.elder (person_id, request_id) VALUES ((r.args->>'person_id')::bigint, r.id)
    ON CONFLICT (person_id) DO NOTHING;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('person_id', (r.args->>'person_id')::bigint));
END
$$;

-- ======================================================================
-- Lifecycle: a suspended person books nothing and is paid nothing new
-- (settlements wait until reinstatement: bank.settlement_settle); a closed
-- person does nothing new, and keeps the history (bank.person.status).

CREATE OR REPLACE FUNCTION bank.enrollment_set_status(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['set_person_status']);
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    UPDATE bank.person SET status = r.args->>'status', status_reason = r.args->>'reason', status_request_id = r.id
     WHERE id = (r.args->>'person_id')::bigint AND status <> 'closed';
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('person_id', (r.args->>'person_id')::bigint, 'status', r.args->>'status'));
END
$$;

CREATE OR REPLACE FUNCTION bank.enrollment_register_institution(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['register_agent_institution']);
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

-- R3: registers a person from a register_person request; a second
-- registration of one national ID is refused by the unique constraint (on
-- its keyed hash, R23). The step needs no personal-data key: it stores
-- what the api encrypted.
CREATE OR REPLACE FUNCTION bank.enrollment_register_person(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['register_person']);
    person bigint;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.person (national_id_hash, national_id_encrypted, phone_encrypted, name, birth_date, gender,
                             beijing_resident, district_code, request_id, agent_institution_id)
    VALUES (decode(r.args->>'national_id_hash', 'hex'), decode(r.args->>'national_id_encrypted', 'base64'),
            decode(r.args->>'phone_encrypted', 'base64'), r.args->>'name', (r.args->>'birth_date')::date, r.args->>'gender',
            (r.args->>'beijing_resident')::boolean, r.args->>'district_code', r.id, r.agent_institution_id)
    ON CONFLICT (national_id_hash) DO NOTHING
    RETURNING id INTO person;
    UPDATE bank.request SET args = args - 'national_id_hash' - 'national_id_encrypted' - 'phone_encrypted' - 'name' WHERE id = r.id;
    IF person IS NULL THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R3: a person with this national ID is already registered');
        RETURN;
    END IF;
    PERFORM jobs.enqueue('settlement.open_account', jsonb_build_object('id', person), 'settlement');
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('person_id', person));
END
$$;
