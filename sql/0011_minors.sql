-- 0011: R2, minors. A Beijing school student under 18 may serve only with
-- a guardian who is an active volunteer, linked and verified by staff
-- (bank.guardianship, 0003); a minor never books alone, but joins a
-- service the guardian booked, at the same time. The elder's hold pays the
-- guardian's booking; the minor's participation is recorded on the service
-- (companion_id), and R20 holds for the minor too.

ALTER TABLE bank.service ADD COLUMN companion_id bigint REFERENCES bank.volunteer;
COMMENT ON COLUMN bank.service.companion_id IS 'R2: a minor serving with the guardian who booked the service.';
-- R20 for minors: never two services at once.
ALTER TABLE bank.service ADD CONSTRAINT service_no_double_booking_companion EXCLUDE USING gist (
    companion_id WITH =, tstzrange(starts_at, ends_at) WITH &&
) WHERE (status IN ('booked', 'in_progress', 'checked_out'));

CREATE FUNCTION bank.enrollment_link_guardian(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.guardianship (minor_id, guardian_id, school, request_id)
    VALUES ((r.args->>'minor_id')::bigint, (r.args->>'guardian_id')::bigint, r.args->>'school', r.id)
    ON CONFLICT (minor_id) DO NOTHING;
    IF NOT FOUND THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R2: the minor already has a guardian linked');
        RETURN;
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('minor_id', (r.args->>'minor_id')::bigint));
END
$$;

CREATE FUNCTION bank.enrollment_verify_guardian(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    UPDATE bank.guardianship SET verified_at = now(), verified_by = r.args->>'staff', evidence_ref = r.args->>'evidence_ref'
     WHERE minor_id = (r.args->>'minor_id')::bigint AND verified_at IS NULL;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('minor_id', (r.args->>'minor_id')::bigint));
END
$$;

-- R2: the minor joins the service the guardian booked.
CREATE FUNCTION bank.order_join_as_minor(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    s bank.service;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    s := bank.locked_service(r);
    IF s.status NOT IN ('booked') OR s.companion_id IS NOT NULL
       OR NOT EXISTS (SELECT 1 FROM bank.guardianship g WHERE g.minor_id = (r.args->>'volunteer_id')::bigint
                         AND g.guardian_id = s.volunteer_id AND g.verified_at IS NOT NULL) THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R2: a minor joins only a service his or her verified guardian booked');
        RETURN;
    END IF;
    BEGIN
        UPDATE bank.service SET companion_id = (r.args->>'volunteer_id')::bigint WHERE id = s.id;
    EXCEPTION WHEN exclusion_violation THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R20: the minor has another service at an overlapping time');
        RETURN;
    END;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', s.id));
END
$$;

CREATE FUNCTION api.link_guardian(minor_id bigint, guardian_id bigint, school text) RETURNS bigint
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

CREATE FUNCTION api.verify_guardian(minor_id bigint, staff text, evidence_ref text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bank.guardianship g WHERE g.minor_id = verify_guardian.minor_id AND g.verified_at IS NULL) THEN
        PERFORM bank.refuse('minor_id', 'R2', 'no unverified guardianship concerns this minor');
    END IF;
    IF staff IS NULL OR length(btrim(staff)) = 0 OR evidence_ref IS NULL OR length(btrim(evidence_ref)) = 0 THEN
        PERFORM bank.refuse('evidence_ref', 'R2', 'a verification names the staff member and the evidence');
    END IF;
    RETURN bank.submit('verify_guardian', jsonb_build_object('minor_id', minor_id, 'staff', btrim(staff), 'evidence_ref', btrim(evidence_ref)),
        'enrollment.verify_guardian', 'enrollment');
END
$$;

-- R2: a minor joins the service the verified guardian booked.
CREATE FUNCTION api.join_as_minor(service_id bigint, minor_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bank.volunteer v WHERE v.person_id = minor_id) THEN
        PERFORM bank.refuse('minor_id', 'R2', 'only a minor approved as a volunteer joins a service');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.guardianship g WHERE g.minor_id = join_as_minor.minor_id
                      AND g.guardian_id = s.volunteer_id AND g.verified_at IS NOT NULL)
       OR s.status <> 'booked' THEN
        PERFORM bank.refuse('service_id', 'R2', 'a minor joins only a service his or her verified guardian booked');
    END IF;
    RETURN bank.submit('join_as_minor', jsonb_build_object('service_id', service_id, 'volunteer_id', minor_id),
        'order.join_as_minor', 'order');
END
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA bank FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO timebank_api;
GRANT EXECUTE ON FUNCTION bank.enrollment_link_guardian(bigint), bank.enrollment_verify_guardian(bigint) TO timebank_enrollment;
GRANT EXECUTE ON FUNCTION bank.order_join_as_minor(bigint) TO timebank_order;
GRANT UPDATE (companion_id) ON bank.service TO timebank_order;
