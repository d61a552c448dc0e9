-- enrollment-worker (timebank_enrollment): R8 lineal relatives and R2
-- guardians, declared and verified by staff.

CREATE OR REPLACE FUNCTION bank.enrollment_declare_relative(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['declare_relative']);
    declared bigint;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.relationship (person_id, relative_id, relation, request_id)
    VALUES ((r.args->>'person_id')::bigint, (r.args->>'relative_id')::bigint, r.args->>'relation', r.id)
    ON CONFLICT ON CONSTRAINT relationship_declared_once DO NOTHING
    RETURNING id INTO declared;
    IF declared IS NULL THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R8: this relationship is already declared');
        RETURN;
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('relationship_id', declared));
END
$$;

CREATE OR REPLACE FUNCTION bank.enrollment_verify_relative(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['verify_relative']);
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    UPDATE bank.relationship
       SET verified_at = now(), verified_by = r.args->>'staff', evidence_ref = r.args->>'evidence_ref'
     WHERE id = (r.args->>'relationship_id')::bigint AND verified_at IS NULL;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('relationship_id', (r.args->>'relationship_id')::bigint));
END
$$;

CREATE OR REPLACE FUNCTION bank.enrollment_link_guardian(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['link_guardian']);
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

CREATE OR REPLACE FUNCTION bank.enrollment_verify_guardian(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['verify_guardian']);
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    UPDATE bank.guardianship SET verified_at = now(), verified_by = r.args->>'staff', evidence_ref = r.args->>'evidence_ref'
     WHERE minor_id = (r.args->>'minor_id')::bigint AND verified_at IS NULL;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('minor_id', (r.args->>'minor_id')::bigint));
END
$$;
