-- 0006: the client contract (DESIGN.md). Client applications call these
-- functions, as members of timebank_api, and nothing else. Each one
-- validates its input against the rules, records the request and enqueues
-- its first job in one transaction, and returns the request's id; the
-- client reads the outcome with api.request_status, or calls
-- api.watch_request and LISTENs on timebank_requests.
--
-- Bad input is refused here, before anything is written: the error's
-- message names the rule ("R1: a volunteer must be 18 or over"), its
-- detail and column field name the input field, and no row, job or
-- transfer is left behind. A few refusals can only be found by the worker
-- (a race lost to another request: R3, R16, R20); those end the request as
-- refused, with the rule, and leave nothing else either.
--
-- The functions run as their owner (SECURITY DEFINER), with a fixed
-- search_path, so that the api role needs no privilege on any table.

-- Records a request and enqueues its job; returns the request id.
CREATE FUNCTION bank.submit(kind text, args jsonb, job_kind text, queue text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    request bigint;
    institution bigint := nullif(current_setting('timebank.agent_institution', true), '')::bigint;
    staff text := nullif(current_setting('timebank.agent_staff', true), '');
    subject bigint := coalesce(args->>'person_id', args->>'volunteer_id', args->>'elder_id', args->>'giver_id')::bigint;
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
    IF subject IS NOT NULL AND submit.kind NOT IN ('set_person_status', 'register_person', 'check_out', 'cancel_service', 'confirm_insurance')
       AND EXISTS (SELECT 1 FROM bank.person p WHERE p.id = subject AND p.status <> 'active') THEN
        PERFORM bank.refuse(CASE WHEN args ? 'volunteer_id' AND NOT args ? 'elder_id' THEN 'volunteer_id'
                                 WHEN args ? 'elder_id' THEN 'elder_id' WHEN args ? 'giver_id' THEN 'giver_id' ELSE 'person_id' END,
                            'R3', 'the person''s account is suspended or closed');
    END IF;
    INSERT INTO bank.request (kind, args, agent_institution_id, agent_staff)
    VALUES (submit.kind, submit.args, institution, CASE WHEN institution IS NOT NULL THEN staff END)
    RETURNING id INTO request;
    PERFORM jobs.enqueue(job_kind, jsonb_build_object('id', request), queue);
    RETURN request;
END
$$;
REVOKE EXECUTE ON FUNCTION bank.submit(text, jsonb, text, text) FROM PUBLIC;

-- The person an id names, or a refusal naming the field.
CREATE FUNCTION bank.person_for(field text, wanted bigint) RETURNS bank.person
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p bank.person;
BEGIN
    SELECT * INTO p FROM bank.person WHERE id = wanted;
    IF p.id IS NULL THEN
        PERFORM bank.refuse(field, 'R3', 'no person is registered with id ' || coalesce(wanted::text, 'NULL'));
    END IF;
    RETURN p;
END
$$;
REVOKE EXECUTE ON FUNCTION bank.person_for(text, bigint) FROM PUBLIC;

-- The service an id names, or a refusal.
CREATE FUNCTION bank.service_for(wanted bigint) RETURNS bank.service
LANGUAGE plpgsql STABLE AS $$
DECLARE
    s bank.service;
BEGIN
    SELECT * INTO s FROM bank.service WHERE id = wanted;
    IF s.id IS NULL THEN
        PERFORM bank.refuse('service_id', 'R16', 'no service has id ' || coalesce(wanted::text, 'NULL'));
    END IF;
    RETURN s;
END
$$;
REVOKE EXECUTE ON FUNCTION bank.service_for(bigint) FROM PUBLIC;

-- R3: registers a person. The national ID is checked (format, birth date,
-- check digit); birth date and gender are taken from it.
CREATE FUNCTION api.register_person(national_id text, name text, phone text, beijing_resident boolean, district_code text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    problem text := bank.national_id_problem(national_id);
BEGIN
    IF problem IS NOT NULL THEN
        PERFORM bank.refuse('national_id', 'R3', 'the national ID ' || problem);
    END IF;
    IF bank.national_id_birth_date(national_id) > current_date THEN
        PERFORM bank.refuse('national_id', 'R3', 'the national ID holds a birth date in the future');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.person p WHERE p.national_id = register_person.national_id) THEN
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
        jsonb_build_object('national_id', national_id, 'name', btrim(name), 'phone', phone,
                           'beijing_resident', beijing_resident, 'district_code', district_code),
        'enrollment.register_person', 'enrollment');
END
$$;

-- R1: a registered person applies as a volunteer: 18 or over, a Beijing
-- permanent resident, the time bank's training completed.
CREATE FUNCTION api.apply_volunteer(person_id bigint, training_completed_on date) RETURNS bigint
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
CREATE FUNCTION api.authenticate_elder(person_id bigint) RETURNS bigint
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

-- R9: a district's civil-affairs office grants coins to a special elder.
CREATE FUNCTION api.grant_coins(district_code text, elder_id bigint, category text, coins bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p bank.person := bank.person_for('elder_id', elder_id);
    budget bank.district_budget;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bank.district d WHERE d.code = district_code) THEN
        PERFORM bank.refuse('district_code', 'R9', 'no Beijing district has code ' || coalesce(district_code, 'NULL'));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.elder e WHERE e.person_id = elder_id) THEN
        PERFORM bank.refuse('elder_id', 'R9', 'coins are granted to authenticated elders only');
    END IF;
    IF p.district_code <> district_code THEN
        PERFORM bank.refuse('elder_id', 'R9', 'a district grants coins to the elders of its own district only');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.special_elder_category c WHERE c.code = category) THEN
        PERFORM bank.refuse('category', 'R9', 'no category of special elder is called ' || coalesce(category, 'NULL'));
    END IF;
    IF category = 'very_old' AND bank.age(p.birth_date, current_date) < bank.setting('very_old_min_age') THEN
        PERFORM bank.refuse('category', 'R9', 'the very old are ' || bank.setting('very_old_min_age') || ' or over');
    END IF;
    IF coins IS NULL OR coins < 1 OR coins > bank.setting('grant_max_coins') THEN
        PERFORM bank.refuse('coins', 'R9', 'a grant is 1 to ' || bank.setting('grant_max_coins') || ' whole coins');
    END IF;
    SELECT * INTO budget FROM bank.district_budget b
     WHERE b.district_code = grant_coins.district_code AND b.period @> bank.local_today();
    IF budget.id IS NULL THEN
        PERFORM bank.refuse('district_code', 'R9', 'the district has set no budget for today');
    END IF;
    IF budget.granted_minutes + coins * 60 > budget.budget_minutes THEN
        PERFORM bank.refuse('coins', 'R9', format('the district''s budget has %s coins left', (budget.budget_minutes - budget.granted_minutes) / 60));
    END IF;
    RETURN bank.submit('grant_coins',
        jsonb_build_object('district_code', district_code, 'elder_id', elder_id, 'category', category, 'minutes', coins * 60),
        'settlement.grant', 'settlement');
END
$$;

-- R4, R16: an authenticated elder with enough available coins publishes a
-- demand. Its coins are held first (by the settlement worker, the
-- ledger's only writer); then it awaits review.
CREATE FUNCTION api.publish_demand(
    elder_id bigint, category_code text, district_code text, description text, starts_at timestamptz, minutes bigint
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p bank.person := bank.person_for('elder_id', elder_id);
BEGIN
    IF starts_at IS NOT NULL
       AND bank.age(p.birth_date, (starts_at AT TIME ZONE 'Asia/Shanghai')::date) < bank.setting('redeem_min_age')
       AND EXISTS (SELECT 1 FROM bank.volunteer v WHERE v.person_id = elder_id) THEN
        PERFORM bank.refuse('elder_id', 'R7', 'a volunteer spends his or her own coins on services only from age '
            || bank.setting('redeem_min_age') || ' on the service date');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.elder e WHERE e.person_id = elder_id) THEN
        PERFORM bank.refuse('elder_id', 'R4', 'only an elder who completed identity authentication may publish a demand');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.service_category c WHERE c.code = category_code) THEN
        PERFORM bank.refuse('category_code', 'R14', 'no category of service is called ' || coalesce(category_code, 'NULL'));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.district d WHERE d.code = district_code) THEN
        PERFORM bank.refuse('district_code', 'R15', 'no Beijing district has code ' || coalesce(district_code, 'NULL'));
    END IF;
    IF description IS NULL OR length(btrim(description)) NOT BETWEEN 1 AND 500 THEN
        PERFORM bank.refuse('description', 'R16', 'a description of 1 to 500 characters is needed');
    END IF;
    IF starts_at IS NULL OR starts_at <= now() OR date_trunc('minute', starts_at) <> starts_at THEN
        PERFORM bank.refuse('starts_at', 'R16', 'a demand starts in the future, on a whole minute');
    END IF;
    IF minutes IS NULL OR minutes NOT BETWEEN bank.setting('demand_min_minutes') AND bank.setting('demand_max_minutes') THEN
        PERFORM bank.refuse('minutes', 'R16', 'a demand lasts ' || bank.setting('demand_min_minutes') || ' to '
            || bank.setting('demand_max_minutes') || ' minutes');
    END IF;
    IF bank.available_minutes(elder_id) < minutes THEN
        PERFORM bank.refuse('minutes', 'R16', format('the elder has %s available minutes, and the demand needs %s',
            bank.available_minutes(elder_id), minutes));
    END IF;
    RETURN bank.submit('publish_demand',
        jsonb_build_object('elder_id', elder_id, 'category_code', category_code, 'district_code', district_code,
                           'description', btrim(description), 'starts_at', starts_at, 'minutes', minutes),
        'settlement.hold', 'settlement');
END
$$;

-- R16: staff review a demand before volunteers see it.
CREATE FUNCTION api.review_demand(service_id bigint, reviewer text, approve boolean, note text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    IF reviewer IS NULL OR length(btrim(reviewer)) = 0 THEN
        PERFORM bank.refuse('reviewer', 'R16', 'the reviewing staff member is named');
    END IF;
    IF approve IS NULL THEN
        PERFORM bank.refuse('approve', 'R16', 'a review approves or rejects');
    END IF;
    IF s.status <> 'awaiting_review' THEN
        PERFORM bank.refuse('service_id', 'R16', 'the demand is ' || s.status || ', not awaiting review');
    END IF;
    RETURN bank.submit('review_demand',
        jsonb_build_object('service_id', service_id, 'reviewer', btrim(reviewer), 'approve', approve, 'note', note),
        'order.review', 'order');
END
$$;

-- R17, R20: a volunteer books a published service.
CREATE FUNCTION api.book_service(service_id bigint, volunteer_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bank.volunteer v WHERE v.person_id = volunteer_id) THEN
        PERFORM bank.refuse('volunteer_id', 'R1', 'only an approved volunteer may book a service');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.guardianship g JOIN bank.person p ON p.id = g.minor_id
                WHERE g.minor_id = volunteer_id AND bank.age(p.birth_date, (s.starts_at AT TIME ZONE 'Asia/Shanghai')::date)
                                                    < bank.setting('volunteer_min_age')) THEN
        PERFORM bank.refuse('volunteer_id', 'R2', 'a minor does not book alone, but joins the service his or her guardian booked');
    END IF;
    IF s.status <> 'published' OR s.starts_at <= now() THEN
        PERFORM bank.refuse('service_id', 'R17', 'the service is not open for booking');
    END IF;
    IF s.elder_id = volunteer_id THEN
        PERFORM bank.refuse('volunteer_id', 'R17', 'a volunteer cannot serve his or her own demand');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.service o
                WHERE o.volunteer_id = book_service.volunteer_id AND o.status IN ('booked', 'in_progress', 'checked_out')
                  AND tstzrange(o.starts_at, o.ends_at) && tstzrange(s.starts_at, s.ends_at)) THEN
        PERFORM bank.refuse('service_id', 'R20', 'the volunteer has another booking at an overlapping time');
    END IF;
    RETURN bank.submit('book_service', jsonb_build_object('service_id', service_id, 'volunteer_id', volunteer_id),
        'order.book', 'order');
END
$$;

-- R18: the booked volunteer checks in (from a configured time before the start).
CREATE FUNCTION api.check_in(service_id bigint, volunteer_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    IF s.status <> 'booked' OR s.volunteer_id IS DISTINCT FROM volunteer_id THEN
        PERFORM bank.refuse('volunteer_id', 'R18', 'only the volunteer who booked the service checks in');
    END IF;
    IF now() < s.starts_at - bank.setting('check_in_early_minutes') * interval '1 minute' THEN
        PERFORM bank.refuse('service_id', 'R18', 'check-in opens ' || bank.setting('check_in_early_minutes') || ' minutes before the start');
    END IF;
    RETURN bank.submit('check_in', jsonb_build_object('service_id', service_id, 'volunteer_id', volunteer_id),
        'order.check_in', 'order');
END
$$;

-- R18, R6: the volunteer checks out; the settlement follows.
CREATE FUNCTION api.check_out(service_id bigint, volunteer_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    IF s.status <> 'in_progress' OR s.volunteer_id IS DISTINCT FROM volunteer_id THEN
        PERFORM bank.refuse('volunteer_id', 'R18', 'only the volunteer who checked in checks out');
    END IF;
    RETURN bank.submit('check_out', jsonb_build_object('service_id', service_id, 'volunteer_id', volunteer_id),
        'order.check_out', 'order');
END
$$;

-- The elder cancels a demand that has not begun; its hold is released.
CREATE FUNCTION api.cancel_service(service_id bigint, elder_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    IF s.elder_id IS DISTINCT FROM elder_id THEN
        PERFORM bank.refuse('elder_id', 'R16', 'only the elder who published a demand cancels it');
    END IF;
    IF s.status NOT IN ('awaiting_review', 'published', 'booked') THEN
        PERFORM bank.refuse('service_id', 'R16', 'a service that is ' || s.status || ' can no longer be cancelled');
    END IF;
    RETURN bank.submit('cancel_service', jsonb_build_object('service_id', service_id, 'elder_id', elder_id),
        'order.cancel', 'order');
END
$$;

-- A request's outcome: pending, completed (with its result) or refused (with the rule).
CREATE FUNCTION api.request_status(request_id bigint)
RETURNS TABLE (status text, result jsonb, refusal text, created_at timestamptz, finished_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.status, r.result, r.refusal, r.created_at, r.finished_at FROM bank.request r WHERE r.id = request_id
$$;

-- Asks for a NOTIFY on channel timebank_requests (payload: the id) when
-- the request ends, and returns its status now: LISTEN first, then call
-- this, and no outcome can slip between the two.
CREATE FUNCTION api.watch_request(request_id bigint)
RETURNS TABLE (status text, result jsonb, refusal text, created_at timestamptz, finished_at timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    UPDATE bank.request r SET watched = true WHERE r.id = request_id
    RETURNING r.status, r.result, r.refusal, r.created_at, r.finished_at
$$;

-- A person's coins: available, held for demands, and in total, in minutes
-- and in coins (1 coin = 60 minutes).
CREATE FUNCTION api.balance(person_id bigint)
RETURNS TABLE (available_minutes bigint, held_minutes bigint, posted_minutes bigint, available_coins numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(a.credits_posted - a.debits_posted - a.debits_pending, 0),
           coalesce(a.debits_pending, 0),
           coalesce(a.credits_posted - a.debits_posted, 0),
           round(coalesce(a.credits_posted - a.debits_posted - a.debits_pending, 0) / 60.0, 2)
      FROM (SELECT 1) one LEFT JOIN bank.account a ON a.person_id = balance.person_id
$$;

-- A service as its elder and volunteer see it.
CREATE FUNCTION api.service_status(service_id bigint)
RETURNS TABLE (status text, starts_at timestamptz, booked_minutes integer, volunteer_id bigint,
               checked_in_at timestamptz, checked_out_at timestamptz, settled_minutes integer, settled_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.status::text, s.starts_at, s.booked_minutes, s.volunteer_id, s.checked_in_at, s.checked_out_at,
           s.settled_minutes, s.settled_at
      FROM bank.service s WHERE s.id = service_id
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO timebank_api;
