-- api: services. R14-R16 demands and their review, R17 finding and
-- booking, R18 check-in and check-out, cancellation, R15 district items,
-- R2 minors joining a guardian's booking, R19 ratings and reports that a
-- service was not given, and their decision.

-- R4, R16: an authenticated elder with enough available coins publishes a
-- demand. Its coins are held first (by the settlement worker, the
-- ledger's only writer); then it awaits review.
CREATE OR REPLACE FUNCTION api.publish_demand(
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

-- R16: staff review a demand before volunteers see it: a member of the
-- service's district (or of the city) with the power review.
CREATE OR REPLACE FUNCTION api.review_demand(staff_code text, service_id bigint, approve boolean, note text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'review', 'R16');
    s bank.service := bank.service_for(service_id);
BEGIN
    PERFORM bank.check_staff_district(m, 'R16', ARRAY[s.district_code]);
    IF approve IS NULL THEN
        PERFORM bank.refuse('approve', 'R16', 'a review approves or rejects');
    END IF;
    IF s.status <> 'awaiting_review' THEN
        PERFORM bank.refuse('service_id', 'R16', 'the demand is ' || s.status || ', not awaiting review');
    END IF;
    RETURN bank.record_staff_act(m, 'review', bank.submit('review_demand',
        jsonb_build_object('service_id', service_id, 'reviewer', m.code, 'staff_member_id', m.id, 'approve', approve, 'note', note),
        'order.review', 'order'));
END
$$;

-- R17, R20: a volunteer books a published service.
CREATE OR REPLACE FUNCTION api.book_service(service_id bigint, volunteer_id bigint) RETURNS bigint
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
CREATE OR REPLACE FUNCTION api.check_in(service_id bigint, volunteer_id bigint) RETURNS bigint
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
    -- Nor after the booked end: the time served is counted within the
    -- booking (R6), so a check-in after it records no service time, and the
    -- service is a no-show once start + no_show_grace_minutes has passed.
    IF now() >= s.ends_at THEN
        PERFORM bank.refuse('service_id', 'R18', 'check-in closes at the booked end (' || to_char(s.ends_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') || ' Beijing time)');
    END IF;
    RETURN bank.submit('check_in', jsonb_build_object('service_id', service_id, 'volunteer_id', volunteer_id),
        'order.check_in', 'order');
END
$$;

-- R18, R6: the volunteer checks out; the settlement follows.
CREATE OR REPLACE FUNCTION api.check_out(service_id bigint, volunteer_id bigint) RETURNS bigint
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
CREATE OR REPLACE FUNCTION api.cancel_service(service_id bigint, elder_id bigint) RETURNS bigint
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

-- A service as its elder and volunteer see it.
CREATE OR REPLACE FUNCTION api.service_status(service_id bigint)
RETURNS TABLE (status text, starts_at timestamptz, booked_minutes integer, volunteer_id bigint,
               checked_in_at timestamptz, checked_out_at timestamptz, settled_minutes integer, settled_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.status::text, s.starts_at, s.booked_minutes, s.volunteer_id, s.checked_in_at, s.checked_out_at,
           s.settled_minutes, s.settled_at
      FROM bank.service s WHERE s.id = service_id
$$;

-- A service's history: each state, when, and who performed it (a staff
-- act: the member's code, bank.staff_act).
CREATE OR REPLACE FUNCTION api.service_history(service_id bigint)
RETURNS TABLE (status text, at timestamptz, performed_by text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT e.status::text, e.at,
           CASE WHEN e.request_id IS NULL THEN 'system'
                WHEN r.agent_institution_id IS NOT NULL THEN 'agent ' || r.agent_institution_id || ' staff ' || r.agent_staff
                WHEN m.id IS NOT NULL THEN 'staff ' || m.code
                ELSE 'person' END
      FROM bank.service_event e LEFT JOIN bank.request r ON r.id = e.request_id
      LEFT JOIN bank.staff_act a ON a.request_id = r.id LEFT JOIN bank.staff_member m ON m.id = a.staff_member_id
     WHERE e.service_id = service_history.service_id
     ORDER BY e.id
$$;

CREATE OR REPLACE FUNCTION api.rate_service(service_id bigint, elder_id bigint, score integer, comment text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    IF s.elder_id IS DISTINCT FROM elder_id THEN
        PERFORM bank.refuse('elder_id', 'R19', 'the elder served (or the agent for the elder) rates the service');
    END IF;
    IF s.status <> 'checked_out' THEN
        PERFORM bank.refuse('service_id', 'R19', 'a service is rated after check-out');
    END IF;
    IF score IS NULL OR score NOT BETWEEN 1 AND 5 THEN
        PERFORM bank.refuse('score', 'R19', 'a rating is 1 to 5');
    END IF;
    IF length(comment) > 500 THEN
        PERFORM bank.refuse('comment', 'R19', 'a comment is at most 500 characters');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.service_rating x WHERE x.service_id = rate_service.service_id) THEN
        PERFORM bank.refuse('service_id', 'R19', 'the service is already rated');
    END IF;
    RETURN bank.submit('rate_service', jsonb_build_object('service_id', service_id, 'elder_id', elder_id, 'score', score, 'comment', comment),
        'order.rate', 'order');
END
$$;

CREATE OR REPLACE FUNCTION api.report_not_given(service_id bigint, elder_id bigint, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    IF s.elder_id IS DISTINCT FROM elder_id THEN
        PERFORM bank.refuse('elder_id', 'R19', 'the elder served (or the agent for the elder) reports the service');
    END IF;
    IF s.status <> 'checked_out' THEN
        PERFORM bank.refuse('service_id', 'R19', 'only a checked-out service can be reported as not given');
    END IF;
    IF now() > s.checked_out_at + bank.setting('dispute_window_days') * interval '1 day' THEN
        PERFORM bank.refuse('service_id', 'R19', 'a report comes within ' || bank.setting('dispute_window_days') || ' days of check-out');
    END IF;
    IF reason IS NULL OR length(btrim(reason)) NOT BETWEEN 1 AND 500 THEN
        PERFORM bank.refuse('reason', 'R19', 'a report says what happened (1 to 500 characters)');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.service_dispute x WHERE x.service_id = report_not_given.service_id) THEN
        PERFORM bank.refuse('service_id', 'R19', 'the service is already reported');
    END IF;
    RETURN bank.submit('report_not_given', jsonb_build_object('service_id', service_id, 'elder_id', elder_id, 'reason', btrim(reason)),
        'order.report_not_given', 'order');
END
$$;

-- R19: a staff member of the service's district (or of the city) with the
-- power decide_dispute upholds or dismisses a report that it was not given.
CREATE OR REPLACE FUNCTION api.decide_report(staff_code text, service_id bigint, upheld boolean, note text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'decide_dispute', 'R19');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bank.service_dispute x WHERE x.service_id = decide_report.service_id AND x.decided_at IS NULL) THEN
        PERFORM bank.refuse('service_id', 'R19', 'no undecided report concerns this service');
    END IF;
    PERFORM bank.check_staff_district(m, 'R19', ARRAY(SELECT s.district_code FROM bank.service s WHERE s.id = decide_report.service_id));
    IF upheld IS NULL THEN
        PERFORM bank.refuse('upheld', 'R19', 'a decision upholds or dismisses');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.service s WHERE s.id = decide_report.service_id AND s.settled_at IS NULL) THEN
        PERFORM bank.refuse('service_id', 'R19', 'the service is not settled yet; decide once it is');
    END IF;
    RETURN bank.record_staff_act(m, 'decide_dispute', bank.submit('decide_report',
        jsonb_build_object('service_id', service_id, 'staff', m.code, 'staff_member_id', m.id, 'upheld', upheld, 'note', note),
        'settlement.decide_dispute', 'settlement'));
END
$$;

-- R15: staff define a district's (or, with district NULL, the city's)
-- item: a member of that district (a city-wide item: of the city) with the
-- power define_item.
CREATE OR REPLACE FUNCTION api.define_service_item(staff_code text, district_code text, category_code text, name_zh text, name_en text,
                                                   default_minutes integer)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'define_item', 'R15');
BEGIN
    IF district_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM bank.district d WHERE d.code = district_code) THEN
        PERFORM bank.refuse('district_code', 'R15', 'no Beijing district has code ' || district_code);
    END IF;
    PERFORM bank.check_staff_district(m, 'R15', CASE WHEN district_code IS NULL THEN '{}' ELSE ARRAY[district_code] END);
    IF NOT EXISTS (SELECT 1 FROM bank.service_category c WHERE c.code = category_code) THEN
        PERFORM bank.refuse('category_code', 'R14', 'an item belongs to one of the eight categories');
    END IF;
    IF name_zh IS NULL OR length(btrim(name_zh)) NOT BETWEEN 1 AND 100 THEN
        PERFORM bank.refuse('name_zh', 'R15', 'an item has a Chinese name of 1 to 100 characters');
    END IF;
    IF default_minutes IS NULL OR default_minutes NOT BETWEEN bank.setting('demand_min_minutes') AND bank.setting('demand_max_minutes') THEN
        PERFORM bank.refuse('default_minutes', 'R15', 'an item lasts ' || bank.setting('demand_min_minutes') || ' to '
            || bank.setting('demand_max_minutes') || ' minutes');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.service_item i WHERE i.district_code IS NOT DISTINCT FROM define_service_item.district_code
                  AND i.name_zh = btrim(define_service_item.name_zh)) THEN
        PERFORM bank.refuse('name_zh', 'R15', 'the district already has an item of that name');
    END IF;
    RETURN bank.record_staff_act(m, 'define_item', bank.submit('define_service_item',
        jsonb_build_object('district_code', district_code, 'category_code', category_code, 'name_zh', btrim(name_zh),
                           'name_en', name_en, 'default_minutes', default_minutes, 'staff', m.code, 'staff_member_id', m.id),
        'order.define_item', 'order'));
END
$$;

-- R15, R16: a demand for an item of the elder's district or a city-wide
-- one, at a place; its length defaults to the item's. Checks as
-- api.publish_demand, which does the rest.
CREATE OR REPLACE FUNCTION api.publish_item_demand(
    elder_id bigint, item_id bigint, description text, starts_at timestamptz, latitude double precision, longitude double precision,
    minutes bigint DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p bank.person := bank.person_for('elder_id', elder_id);
    i bank.service_item;
    submitted bigint;
BEGIN
    SELECT * INTO i FROM bank.service_item x WHERE x.id = item_id;
    IF i.id IS NULL THEN
        PERFORM bank.refuse('item_id', 'R15', 'no service item has id ' || coalesce(item_id::text, 'NULL'));
    END IF;
    IF i.district_code IS NOT NULL AND i.district_code <> p.district_code THEN
        PERFORM bank.refuse('item_id', 'R15', 'a demand names an item of the elder''s district or a city-wide one');
    END IF;
    IF (latitude IS NULL) <> (longitude IS NULL) OR latitude NOT BETWEEN -90 AND 90 OR longitude NOT BETWEEN -180 AND 180 THEN
        PERFORM bank.refuse('latitude', 'R17', 'a place is a latitude and a longitude');
    END IF;
    submitted := api.publish_demand(elder_id, i.category_code, p.district_code, description, starts_at, coalesce(minutes, i.default_minutes));
    UPDATE bank.request
       SET args = args || jsonb_build_object('item_id', i.id, 'latitude', latitude, 'longitude', longitude)
     WHERE id = submitted;
    RETURN submitted;
END
$$;

-- R17: published services near a volunteer, nearest first: within
-- `within_km` of the given point (services without a place count as
-- near when they are in the volunteer's own district), optionally of one
-- category and starting in a time window; never one that overlaps the
-- volunteer's own bookings (R20). No elder's id, name or exact place.
CREATE OR REPLACE FUNCTION api.find_services(
    volunteer_id bigint, latitude double precision, longitude double precision, within_km double precision DEFAULT 5,
    category text DEFAULT NULL, starts_after timestamptz DEFAULT NULL, starts_before timestamptz DEFAULT NULL,
    max_results integer DEFAULT 20
) RETURNS TABLE (service_id bigint, category_code text, category_zh text, item_zh text, district_code text,
                 starts_at timestamptz, minutes integer, distance_km numeric, description text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    home text;
    -- A degree of latitude is ~111 km: the box that holds the circle.
    dlat double precision := within_km / 111.0;
    dlon double precision := within_km / (111.0 * greatest(cos(radians(latitude)), 0.01));
BEGIN
    SELECT p.district_code INTO home FROM bank.person p JOIN bank.volunteer v ON v.person_id = p.id WHERE p.id = volunteer_id;
    IF home IS NULL THEN
        PERFORM bank.refuse('volunteer_id', 'R17', 'only an approved volunteer looks for services');
    END IF;
    IF latitude IS NULL OR longitude IS NULL OR latitude NOT BETWEEN -90 AND 90 OR longitude NOT BETWEEN -180 AND 180 THEN
        PERFORM bank.refuse('latitude', 'R17', 'a search starts from a latitude and a longitude');
    END IF;
    IF within_km IS NULL OR within_km <= 0 OR within_km > 100 THEN
        PERFORM bank.refuse('within_km', 'R17', 'a search radius is more than 0 and at most 100 km');
    END IF;
    RETURN QUERY
    SELECT s.id, s.category_code, c.name_zh, i.name_zh, s.district_code, s.starts_at, s.booked_minutes,
           round(bank.distance_km(find_services.latitude, find_services.longitude, s.latitude, s.longitude)::numeric, 1),
           s.description
      FROM bank.service s
      JOIN bank.service_category c ON c.code = s.category_code
      LEFT JOIN bank.service_item i ON i.id = s.item_id
     WHERE s.status = 'published' AND s.starts_at > now()
       AND (category IS NULL OR s.category_code = category)
       AND (starts_after IS NULL OR s.starts_at >= starts_after)
       AND (starts_before IS NULL OR s.starts_at < starts_before)
       AND ((s.latitude BETWEEN find_services.latitude - dlat AND find_services.latitude + dlat
             AND s.longitude BETWEEN find_services.longitude - dlon AND find_services.longitude + dlon
             AND bank.distance_km(find_services.latitude, find_services.longitude, s.latitude, s.longitude) <= within_km)
            OR (s.latitude IS NULL AND s.district_code = home))
       AND s.elder_id <> find_services.volunteer_id
       AND NOT EXISTS (SELECT 1 FROM bank.service o
                        WHERE o.volunteer_id = find_services.volunteer_id AND o.status IN ('booked', 'in_progress', 'checked_out')
                          AND tstzrange(o.starts_at, o.ends_at) && tstzrange(s.starts_at, s.ends_at))
     ORDER BY 8 NULLS LAST, s.starts_at
     LIMIT greatest(1, least(coalesce(max_results, 20), 100));
END
$$;

-- R2: a minor joins the service the verified guardian booked.
CREATE OR REPLACE FUNCTION api.join_as_minor(service_id bigint, minor_id bigint) RETURNS bigint
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
