-- api: people. R3 registration (R23: the ID encrypted, its keyed hash
-- unique), R1 volunteers, R4 elders, R5 agent institutions and acting for
-- a person, R8 relatives, R2 guardians, R24-R25 the registry and
-- insurance, suspension and closure, and staff's audited reading of an
-- identity (R23).

-- R1: a registered person applies as a volunteer: 18 or over, a Beijing
-- permanent resident, the time bank's training completed.
CREATE OR REPLACE FUNCTION api.apply_volunteer(person_id bigint, training_completed_on date) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p bank.person := bank.person_for('person_id', person_id);
BEGIN
    IF bank.age(p.birth_date, current_date) < bank.setting('volunteer_min_age') THEN
        IF NOT EXISTS (SELECT 1 FROM bank.guardianship g WHERE g.minor_id = apply_volunteer.person_id) THEN
            PERFORM bank.refuse('person_id', 'R1', 'a volunteer must be ' || bank.setting('volunteer_min_age') || ' or over');
        END IF;
        IF NOT bank.minor_may_serve(person_id) THEN
            PERFORM bank.refuse('person_id', 'R2', 'a school student under ' || bank.setting('volunteer_min_age')
                || ' serves only with a verified guardian who is an active volunteer');
        END IF;
    END IF;
    IF NOT p.beijing_resident THEN
        PERFORM bank.refuse('person_id', 'R1', 'a volunteer must be a Beijing permanent resident');
    END IF;
    IF training_completed_on IS NULL OR training_completed_on > current_date THEN
        PERFORM bank.refuse('training_completed_on', 'R1', 'a volunteer must have completed the time bank''s training');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.volunteer v WHERE v.person_id = apply_volunteer.person_id) THEN
        PERFORM bank.refuse('person_id', 'R1', 'the person is already a volunteer');
    END IF;
    RETURN bank.submit('apply_volunteer',
        jsonb_build_object('person_id', person_id, 'training_completed_on', training_completed_on),
        'enrollment.apply_volunteer', 'enrollment');
END
$$;

-- R4: an elder completes identity authentication (60 or over, ours).
CREATE OR REPLACE FUNCTION api.authenticate_elder(person_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p bank.person := bank.person_for('person_id', person_id);
BEGIN
    IF bank.age(p.birth_date, current_date) < bank.setting('elder_min_age') THEN
        PERFORM bank.refuse('person_id', 'R4', 'an elder must be ' || bank.setting('elder_min_age') || ' or over');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.elder e WHERE e.person_id = authenticate_elder.person_id) THEN
        PERFORM bank.refuse('person_id', 'R4', 'the elder is already authenticated');
    END IF;
    RETURN bank.submit('authenticate_elder', jsonb_build_object('person_id', person_id),
        'enrollment.authenticate_elder', 'enrollment');
END
$$;

CREATE OR REPLACE FUNCTION api.declare_relative(person_id bigint, relative_id bigint, relation text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.person_for('person_id', person_id);
    PERFORM bank.person_for('relative_id', relative_id);
    IF person_id = relative_id THEN
        PERFORM bank.refuse('relative_id', 'R8', 'a person is not his or her own relative');
    END IF;
    IF relation IS NULL OR relation NOT IN ('parent', 'grandparent', 'child', 'grandchild') THEN
        PERFORM bank.refuse('relation', 'R8', 'gifts go to lineal relatives only: parent, grandparent, child or grandchild');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.relationship r
                WHERE (r.person_id = declare_relative.person_id AND r.relative_id = declare_relative.relative_id)
                   OR (r.person_id = declare_relative.relative_id AND r.relative_id = declare_relative.person_id)) THEN
        PERFORM bank.refuse('relative_id', 'R8', 'this relationship is already declared');
    END IF;
    RETURN bank.submit('declare_relative', jsonb_build_object('person_id', person_id, 'relative_id', relative_id, 'relation', relation),
        'enrollment.declare_relative', 'enrollment');
END
$$;

-- R8: a staff member with the power verify, of either relative's district
-- (or of the city), verifies a declared relationship on its evidence.
CREATE OR REPLACE FUNCTION api.verify_relative(staff_code text, relationship_id bigint, evidence_ref text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'verify', 'R8');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bank.relationship r WHERE r.id = relationship_id AND r.verified_at IS NULL) THEN
        PERFORM bank.refuse('relationship_id', 'R8', 'no declared, unverified relationship has this id');
    END IF;
    PERFORM bank.check_staff_district(m, 'R8', ARRAY(
        SELECT p.district_code FROM bank.relationship r JOIN bank.person p ON p.id IN (r.person_id, r.relative_id)
         WHERE r.id = relationship_id));
    IF evidence_ref IS NULL OR length(btrim(evidence_ref)) = 0 THEN
        PERFORM bank.refuse('evidence_ref', 'R8', 'a verification names its evidence');
    END IF;
    RETURN bank.record_staff_act(m, 'verify', bank.submit('verify_relative',
        jsonb_build_object('relationship_id', relationship_id, 'staff', m.code, 'staff_member_id', m.id, 'evidence_ref', btrim(evidence_ref)),
        'enrollment.verify_relative', 'enrollment'));
END
$$;

-- ======================================================================
-- The api

-- R5: from now on this session acts as the institution's staff member
-- (NULLs: as the person again). Checked here and on every request.
CREATE OR REPLACE FUNCTION api.act_as_agent(institution_id bigint, staff_code text) RETURNS void
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

-- R5: a staff member of the institution's district (or of the city) with
-- the power register_institution records an institution a street or
-- township confirmed, with the institution's own staff (`staff`).
CREATE OR REPLACE FUNCTION api.register_agent_institution(staff_code text, name text, district_code text, confirmed_by text,
                                                          confirmation_ref text, staff jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'register_institution', 'R5');
BEGIN
    IF name IS NULL OR length(btrim(name)) = 0 THEN
        PERFORM bank.refuse('name', 'R5', 'an institution has a name');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.district d WHERE d.code = district_code) THEN
        PERFORM bank.refuse('district_code', 'R5', 'no Beijing district has code ' || coalesce(district_code, 'NULL'));
    END IF;
    PERFORM bank.check_staff_district(m, 'R5', ARRAY[district_code]);
    IF confirmed_by IS NULL OR length(btrim(confirmed_by)) = 0 OR confirmation_ref IS NULL OR length(btrim(confirmation_ref)) = 0 THEN
        PERFORM bank.refuse('confirmed_by', 'R5', 'an agent institution is confirmed by a street or township, with the act''s reference');
    END IF;
    IF staff IS NULL OR jsonb_typeof(staff) <> 'array' OR jsonb_array_length(staff) = 0
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(staff) s WHERE coalesce(s->>'code', '') = '' OR coalesce(s->>'name', '') = '') THEN
        PERFORM bank.refuse('staff', 'R5', 'an institution names its staff: [{"code": ..., "name": ...}]');
    END IF;
    RETURN bank.record_staff_act(m, 'register_institution', bank.submit('register_agent_institution',
        jsonb_build_object('name', btrim(name), 'district_code', district_code, 'confirmed_by', btrim(confirmed_by),
                           'confirmation_ref', btrim(confirmation_ref), 'staff', staff, 'staff_member_id', m.id),
        'enrollment.register_institution', 'enrollment'));
END
$$;

-- R24: imports what Volunteer Beijing sent (bank.volunteer_beijing_feed);
-- idempotent. The registry is the city's: a city-level staff member with
-- the power import_registry.
CREATE OR REPLACE FUNCTION api.import_volunteer_beijing(staff_code text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'import_registry', 'R24');
BEGIN
    RETURN bank.record_staff_act(m, 'import_registry', bank.submit('import_volunteer_beijing',
        jsonb_build_object('staff', m.code, 'staff_member_id', m.id), 'enrollment.import_registry', 'enrollment'));
END
$$;

-- R25: the volunteer organisation confirms a personal accident policy; a
-- staff member of the volunteer's district (or of the city) with the power
-- confirm_insurance records it.
CREATE OR REPLACE FUNCTION api.confirm_insurance(staff_code text, person_id bigint, organisation text, policy_number text,
                                                 valid_from date, valid_to date)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'confirm_insurance', 'R25');
    p bank.person := bank.person_for('person_id', person_id);
BEGIN
    PERFORM bank.check_staff_district(m, 'R25', ARRAY[p.district_code]);
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
    RETURN bank.record_staff_act(m, 'confirm_insurance', bank.submit('confirm_insurance',
        jsonb_build_object('person_id', person_id, 'organisation', btrim(organisation), 'policy_number', btrim(policy_number),
                           'valid_from', valid_from, 'valid_to', valid_to, 'staff', m.code, 'staff_member_id', m.id),
        'enrollment.confirm_insurance', 'enrollment'));
END
$$;

-- R24, R25: insured on a day, and how.
CREATE OR REPLACE FUNCTION api.insured_on(person_id bigint, day date) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN bank.insured_on(person_id, day);

CREATE OR REPLACE FUNCTION api.link_guardian(minor_id bigint, guardian_id bigint, school text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    minor bank.person := bank.person_for('minor_id', minor_id);
BEGIN
    PERFORM bank.person_for('guardian_id', guardian_id);
    IF bank.age(minor.birth_date, current_date) >= bank.setting('volunteer_min_age')
       OR bank.age(minor.birth_date, current_date) < bank.setting('minor_min_age') THEN
        PERFORM bank.refuse('minor_id', 'R2', 'a guardian leads a school student aged ' || bank.setting('minor_min_age')
            || ' to ' || (bank.setting('volunteer_min_age') - 1));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.volunteer v WHERE v.person_id = guardian_id) OR NOT bank.person_active(guardian_id) THEN
        PERFORM bank.refuse('guardian_id', 'R2', 'the guardian is an active volunteer');
    END IF;
    IF school IS NULL OR length(btrim(school)) = 0 THEN
        PERFORM bank.refuse('school', 'R2', 'the minor is a school student: the school is named');
    END IF;
    RETURN bank.submit('link_guardian', jsonb_build_object('minor_id', minor_id, 'guardian_id', guardian_id, 'school', btrim(school)),
        'enrollment.link_guardian', 'enrollment');
END
$$;

-- R2: a staff member of the minor's district (or of the city) with the
-- power verify verifies a guardianship on its evidence.
CREATE OR REPLACE FUNCTION api.verify_guardian(staff_code text, minor_id bigint, evidence_ref text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'verify', 'R2');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bank.guardianship g WHERE g.minor_id = verify_guardian.minor_id AND g.verified_at IS NULL) THEN
        PERFORM bank.refuse('minor_id', 'R2', 'no unverified guardianship concerns this minor');
    END IF;
    PERFORM bank.check_staff_district(m, 'R2', ARRAY(SELECT p.district_code FROM bank.person p WHERE p.id = verify_guardian.minor_id));
    IF evidence_ref IS NULL OR length(btrim(evidence_ref)) = 0 THEN
        PERFORM bank.refuse('evidence_ref', 'R2', 'a verification names its evidence');
    END IF;
    RETURN bank.record_staff_act(m, 'verify', bank.submit('verify_guardian',
        jsonb_build_object('minor_id', minor_id, 'staff', m.code, 'staff_member_id', m.id, 'evidence_ref', btrim(evidence_ref)),
        'enrollment.verify_guardian', 'enrollment'));
END
$$;

-- Suspension, reinstatement, closure, by a staff member of the person's
-- district (or of the city) with the power set_status. R22: reinstating a
-- person on the dishonest list is refused before anything is written (the
-- database refuses it too: bank.refuse_dishonest_person_change).
CREATE OR REPLACE FUNCTION api.set_person_status(staff_code text, person_id bigint, status text, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'set_status', 'R3');
    p bank.person := bank.person_for('person_id', person_id);
BEGIN
    PERFORM bank.check_staff_district(m, 'R3', ARRAY[p.district_code]);
    IF status IS NULL OR status NOT IN ('active', 'suspended', 'closed') THEN
        PERFORM bank.refuse('status', 'R3', 'a person is active, suspended or closed');
    END IF;
    IF p.status = 'closed' THEN
        PERFORM bank.refuse('person_id', 'R3', 'a closed account stays closed; its history is kept');
    END IF;
    IF status = 'active' AND EXISTS (SELECT 1 FROM bank.dishonest_person d WHERE d.person_id = set_person_status.person_id) THEN
        PERFORM bank.refuse('status', 'R22', 'a person on the dishonest list is not reinstated');
    END IF;
    IF reason IS NULL OR length(btrim(reason)) = 0 THEN
        PERFORM bank.refuse('reason', 'R3', 'a change of status gives the reason');
    END IF;
    IF status = 'closed' AND EXISTS (
        SELECT 1 FROM bank.service s
         WHERE (s.volunteer_id = set_person_status.person_id OR s.elder_id = set_person_status.person_id)
           AND (s.status IN ('awaiting_review', 'published', 'booked', 'in_progress')
                OR (s.status = 'checked_out' AND s.settled_at IS NULL))) THEN
        PERFORM bank.refuse('person_id', 'R3', 'an account with open or unsettled services cannot be closed yet');
    END IF;
    RETURN bank.record_staff_act(m, 'set_status', bank.submit('set_person_status',
        jsonb_build_object('person_id', person_id, 'status', status, 'staff', m.code, 'staff_member_id', m.id, 'reason', btrim(reason)),
        'enrollment.set_status', 'enrollment'));
END
$$;

-- R3, R23: registration. The ID is checked in the clear, then only its
-- hash and ciphertext (and the birth date and gender read from it) enter
-- the request log; the name is removed from it once the person exists.
CREATE OR REPLACE FUNCTION api.register_person(national_id text, name text, phone text, beijing_resident boolean, district_code text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    problem text := bank.national_id_problem(national_id);
    hash bytea;
BEGIN
    IF problem IS NOT NULL THEN
        PERFORM bank.refuse('national_id', 'R3', 'the national ID ' || problem);
    END IF;
    IF bank.national_id_birth_date(national_id) > current_date THEN
        PERFORM bank.refuse('national_id', 'R3', 'the national ID holds a birth date in the future');
    END IF;
    hash := bank.personal_data_hash(national_id);
    IF EXISTS (SELECT 1 FROM bank.person p WHERE p.national_id_hash = hash) THEN
        PERFORM bank.refuse('national_id', 'R3', 'a person with this national ID is already registered');
    END IF;
    IF name IS NULL OR length(btrim(name)) NOT BETWEEN 1 AND 100 THEN
        PERFORM bank.refuse('name', 'R3', 'a name of 1 to 100 characters is needed');
    END IF;
    IF phone IS NOT NULL AND phone !~ '^1[3-9][0-9]{9}$' THEN
        PERFORM bank.refuse('phone', 'R3', 'a phone number is a mainland mobile number of 11 digits');
    END IF;
    IF beijing_resident IS NULL THEN
        PERFORM bank.refuse('beijing_resident', 'R1', 'say whether the person is a Beijing permanent resident');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.district d WHERE d.code = district_code) THEN
        PERFORM bank.refuse('district_code', 'R15', 'no Beijing district has code ' || coalesce(district_code, 'NULL'));
    END IF;
    RETURN bank.submit('register_person',
        jsonb_build_object('national_id_hash', encode(hash, 'hex'),
                           'national_id_encrypted', encode(bank.personal_data_encrypt(national_id), 'base64'),
                           'phone_encrypted', encode(bank.personal_data_encrypt(phone), 'base64'),
                           'birth_date', bank.national_id_birth_date(national_id),
                           'gender', CASE WHEN substr(national_id, 17, 1)::int % 2 = 1 THEN 'male' ELSE 'female' END,
                           'name', btrim(name), 'beijing_resident', beijing_resident, 'district_code', district_code),
        'enrollment.register_person', 'enrollment');
END
$$;

-- R23: a staff member's read of a person's national ID and phone number,
-- in two steps so that no read goes unrecorded (issue 15, finding 4: a
-- read recorded in the transaction that returned the data vanished with
-- its rollback). First the read is recorded, naming the staff member (who
-- holds read_personal_data, for the person's district or the whole city:
-- finding 9) and the purpose, in a transaction of its own; then, within 10
-- minutes and from the same login, api.read_personal_data shows the data,
-- and only for a read some earlier transaction committed.
CREATE OR REPLACE FUNCTION api.record_personal_data_read(staff_code text, person_id bigint, purpose text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    member bank.staff_member := bank.acting_staff(staff_code, 'read_personal_data', 'R23');
    p bank.person := bank.person_for('person_id', person_id);
    recorded bigint;
BEGIN
    PERFORM bank.check_staff_district(member, 'R23', ARRAY[p.district_code]);
    IF purpose IS NULL OR length(btrim(purpose)) NOT BETWEEN 1 AND 500 THEN
        PERFORM bank.refuse('purpose', 'R23', 'a read of personal data names its purpose');
    END IF;
    INSERT INTO bank.personal_data_read (person_id, staff, purpose, staff_member_id)
    VALUES (person_id, member.code, btrim(purpose), member.id)
    RETURNING id INTO recorded;
    RETURN recorded;
END
$$;
COMMENT ON FUNCTION api.record_personal_data_read(text, bigint, text) IS
    'R23: records a staff member''s read of a person''s national ID and phone number, with its purpose; commit, then call api.read_personal_data with the id. 记录个人信息查阅';

CREATE OR REPLACE FUNCTION api.read_personal_data(read_id bigint) RETURNS TABLE (national_id text, phone text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    recorded bank.personal_data_read;
BEGIN
    SELECT * INTO recorded FROM bank.personal_data_read r
     WHERE r.id = read_id AND r.login = session_user AND r.message_id IS NULL;
    IF recorded.id IS NULL THEN
        PERFORM bank.refuse('read_id', 'R23', 'no read of personal data with id ' || coalesce(read_id::text, 'NULL') || ' was recorded by this login');
    END IF;
    -- Recorded by this transaction (read_at is its own start): not yet committed, so not yet a record.
    IF recorded.read_at >= now() THEN
        PERFORM bank.refuse('read_id', 'R23', 'a read is shown only once its record is committed: call api.record_personal_data_read in a transaction of its own first');
    END IF;
    IF recorded.read_at < now() - interval '10 minutes' THEN
        PERFORM bank.refuse('read_id', 'R23', 'a recorded read is valid for 10 minutes: record another');
    END IF;
    RETURN QUERY SELECT bank.personal_data_decrypt(p.national_id_encrypted), bank.personal_data_decrypt(p.phone_encrypted)
                   FROM bank.person p WHERE p.id = recorded.person_id;
END
$$;
COMMENT ON FUNCTION api.read_personal_data(bigint) IS
    'R23: the national ID and phone number of a read recorded (and committed) by api.record_personal_data_read from this login, within 10 minutes. 查阅个人信息';
