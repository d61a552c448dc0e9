-- bank: the request log. Every api call records a request and enqueues
-- its job (bank.submit); a worker's step reads it once
-- (bank.pending_request) and finishes it once (bank.finish_request), so a
-- retried or rescued job changes nothing.
--
-- Issue 15, finding 1: what a request asks is the api's word alone. Its
-- kind, arguments and submitter cannot change once the transaction that
-- recorded it has committed (bank.refuse_request_change, for every role,
-- the owner's code included), a finished request is never reopened, and
-- no application role writes the table: a worker finishes a request only
-- through its own step (SECURITY DEFINER), which serves only the kinds of
-- request it is written for (bank.pending_request).

-- Refuses every change to a request but its outcome, once: the api's
-- kind, arguments and submitter are fixed when the recording transaction
-- commits (until then the api may still add to what it recorded, as
-- api.publish_demand_at_item does). The one later change to the
-- arguments allowed is R23's: removing the personal data a registration
-- carried, once the person is registered.
CREATE OR REPLACE FUNCTION bank.refuse_request_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    recorded_now boolean := OLD.xmin::text = pg_current_xact_id()::xid::text;
    removed text[] := ARRAY(SELECT jsonb_object_keys(OLD.args) EXCEPT SELECT jsonb_object_keys(NEW.args));
BEGIN
    -- (Only whether a client watches it may still change: api.watch_request.)
    IF OLD.status <> 'pending' AND (NEW.status, NEW.result, NEW.refusal, NEW.finished_at, NEW.kind, NEW.args,
                                    NEW.agent_institution_id, NEW.agent_staff, NEW.created_at)
                                   IS DISTINCT FROM (OLD.status, OLD.result, OLD.refusal, OLD.finished_at, OLD.kind, OLD.args,
                                                     OLD.agent_institution_id, OLD.agent_staff, OLD.created_at) THEN
        RAISE EXCEPTION 'request %: a finished request is never changed (it was %)', OLD.id, OLD.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NOT recorded_now AND (NEW.kind IS DISTINCT FROM OLD.kind OR NEW.id IS DISTINCT FROM OLD.id
        OR NEW.agent_institution_id IS DISTINCT FROM OLD.agent_institution_id OR NEW.agent_staff IS DISTINCT FROM OLD.agent_staff
        OR NEW.created_at IS DISTINCT FROM OLD.created_at
        OR (NEW.args IS DISTINCT FROM OLD.args
            AND NOT (NEW.args <@ OLD.args
                     AND removed <@ ARRAY['national_id_hash', 'national_id_encrypted', 'phone_encrypted', 'name']))) THEN
        RAISE EXCEPTION 'request %: its kind, arguments and submitter are the api''s and do not change', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER request_immutable BEFORE UPDATE ON bank.request
    FOR EACH ROW EXECUTE FUNCTION bank.refuse_request_change();

CREATE OR REPLACE FUNCTION bank.refuse_request_deletion() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the request log is kept: requests are never deleted' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE OR REPLACE TRIGGER request_not_deleted BEFORE DELETE OR TRUNCATE ON bank.request
    FOR EACH STATEMENT EXECUTE FUNCTION bank.refuse_request_deletion();

-- Records a request's outcome once (a retried job finds it finished and
-- changes nothing), and wakes a client that watches it.
CREATE OR REPLACE FUNCTION bank.finish_request(request_id bigint, outcome text, result jsonb, refusal text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    was_watched boolean;
BEGIN
    UPDATE bank.request r
       SET status = outcome, result = finish_request.result, refusal = finish_request.refusal, finished_at = bank.clock_now()
     WHERE r.id = request_id AND r.status = 'pending'
    RETURNING r.watched INTO was_watched;
    IF was_watched THEN
        PERFORM pg_notify('timebank_requests', request_id::text);
    END IF;
END
$$;

-- Locks a request for the job handling it; NULL when it is already
-- finished (a duplicated or retried job), so the caller does nothing. A
-- step names the kinds of request it serves: a job that points it at
-- another kind (a forged job, issue 15 finding 1: a settlement.grant job
-- naming a hold's request) fails, changing nothing.
CREATE OR REPLACE FUNCTION bank.pending_request(request_id bigint, serves text[]) RETURNS bank.request
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request;
BEGIN
    SELECT * INTO r FROM bank.request WHERE id = request_id AND status = 'pending' FOR UPDATE;
    IF r.id IS NOT NULL AND NOT r.kind = ANY(serves) THEN
        RAISE EXCEPTION 'request % is a % request, which this step (for %) does not serve', r.id, r.kind, array_to_string(serves, ', ')
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN r;
END
$$;

-- Records a request and enqueues its job; returns the request id.
CREATE OR REPLACE FUNCTION bank.submit(kind text, args jsonb, job_kind text, queue text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    request bigint;
    institution bigint := nullif(current_setting('timebank.agent_institution', true), '')::bigint;
    staff text := nullif(current_setting('timebank.agent_staff', true), '');
    -- Whom the request is for (R5: an agent acts only for its people): a
    -- guardianship is the guardian's act, who leads the minor (R2).
    subject bigint := coalesce(args->>'person_id', args->>'volunteer_id', args->>'elder_id', args->>'giver_id',
                               args->>'guardian_id')::bigint;
BEGIN
    IF institution IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM bank.agent_institution i WHERE i.id = institution AND i.withdrawn_at IS NULL)
           OR NOT EXISTS (SELECT 1 FROM bank.agent_staff s WHERE s.institution_id = institution AND s.staff_code = staff AND s.active) THEN
            PERFORM bank.refuse('agent', 'R5', 'only active staff of a confirmed agent institution act for others');
        END IF;
        IF subject IS NULL AND submit.kind <> 'register_person' THEN
            PERFORM bank.refuse('agent', 'R5', 'an agent institution acts for people, not as staff');
        END IF;
        IF subject IS NOT NULL AND submit.kind <> 'register_person'
           AND NOT EXISTS (SELECT 1 FROM bank.person p WHERE p.id = subject AND p.agent_institution_id = institution) THEN
            PERFORM bank.refuse('agent', 'R5', 'an agent institution acts only for the people registered with it');
        END IF;
    END IF;
    -- A suspended or closed person books, checks in, publishes and gives
    -- nothing (finishing a service in progress, or cancelling, is allowed).
    -- R22: fraud is confirmed of whoever committed it, an account suspended
    -- meanwhile (as supervisors do while they look) or closed included:
    -- the dishonest list is of people, not of active accounts.
    IF subject IS NOT NULL AND submit.kind NOT IN ('set_person_status', 'register_person', 'check_out', 'cancel_service', 'confirm_insurance',
                                                   'confirm_fraud')
       AND EXISTS (SELECT 1 FROM bank.person p WHERE p.id = subject AND p.status <> 'active') THEN
        PERFORM bank.refuse(CASE WHEN args ? 'volunteer_id' AND NOT args ? 'elder_id' THEN 'volunteer_id'
                                 WHEN args ? 'elder_id' THEN 'elder_id' WHEN args ? 'giver_id' THEN 'giver_id'
                                 WHEN args ? 'person_id' THEN 'person_id' ELSE 'guardian_id' END,
                            'R3', 'the person''s account is suspended or closed');
    END IF;
    -- Stamped on the bank's clock: a check-in's and a check-out's time are their requests' (R18, R6).
    INSERT INTO bank.request (kind, args, agent_institution_id, agent_staff, created_at)
    VALUES (submit.kind, submit.args, institution, CASE WHEN institution IS NOT NULL THEN staff END, bank.clock_now())
    RETURNING id INTO request;
    PERFORM jobs.enqueue(job_kind, jsonb_build_object('id', request), queue);
    RETURN request;
END
$$;

-- The person an id names, or a refusal naming the field (a missing id is
-- said to be missing, not looked for: issue 19).
CREATE OR REPLACE FUNCTION bank.person_for(field text, wanted bigint) RETURNS bank.person
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p bank.person;
BEGIN
    IF wanted IS NULL THEN
        PERFORM bank.refuse(field, 'R3', field || ' is required: the id of a registered person');
    END IF;
    SELECT * INTO p FROM bank.person WHERE id = wanted;
    IF p.id IS NULL THEN
        PERFORM bank.refuse(field, 'R3', 'no person is registered with id ' || wanted);
    END IF;
    RETURN p;
END
$$;

-- The service an id names, or a refusal.
CREATE OR REPLACE FUNCTION bank.service_for(wanted bigint) RETURNS bank.service
LANGUAGE plpgsql STABLE AS $$
DECLARE
    s bank.service;
BEGIN
    IF wanted IS NULL THEN
        PERFORM bank.refuse('service_id', 'R16', 'service_id is required: the id of a service');
    END IF;
    SELECT * INTO s FROM bank.service WHERE id = wanted;
    IF s.id IS NULL THEN
        PERFORM bank.refuse('service_id', 'R16', 'no service has id ' || wanted);
    END IF;
    RETURN s;
END
$$;

-- Whom a client request was made for, by role (R5: every action records
-- who performed it; never a name): the elder of a demand, its rating or
-- its cancellation; the volunteer of a booking, check-in or -out, or
-- accident report; else the person.
CREATE OR REPLACE FUNCTION bank.request_party(r bank.request) RETURNS text
LANGUAGE sql STABLE
RETURN CASE WHEN r.args ? 'elder_id' THEN 'elder'
            WHEN r.args ? 'volunteer_id' THEN 'volunteer'
            ELSE 'person' END;
