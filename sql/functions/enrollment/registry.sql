-- enrollment-worker (timebank_enrollment): Volunteer Beijing's real-name
-- registry (R24) and insurance confirmations (R24-R25).

CREATE OR REPLACE FUNCTION bank.enrollment_confirm_insurance(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['confirm_insurance']);
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

-- R24, the import: approved real-name records whose national ID is a
-- registered person, matched on the keyed hash (R23); a record seen before
-- changes nothing.
CREATE OR REPLACE FUNCTION bank.enrollment_import_registry(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['import_volunteer_beijing']);
    imported integer;
    unmatched integer;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.volunteer_beijing_registration (person_id, record_id, approved_on)
    SELECT p.id, f.record_id, f.approved_on
      FROM bank.volunteer_beijing_feed f JOIN bank.person p ON p.national_id_hash = f.national_id_hash
     WHERE f.real_name_verified AND f.approved_on IS NOT NULL
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS imported = ROW_COUNT;
    SELECT count(*) INTO unmatched FROM bank.volunteer_beijing_feed f
     WHERE NOT EXISTS (SELECT 1 FROM bank.person p WHERE p.national_id_hash = f.national_id_hash);
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('imported', imported, 'unmatched', unmatched));
END
$$;
