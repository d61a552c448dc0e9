-- 0010: R15 district service items and R17 matching. Items (0005's
-- bank.service_item) are defined by staff; a demand may name an item of
-- the elder's district or a city-wide one, and where the service takes
-- place. Volunteers list published services near them, nearest first, and
-- see no more of the elder than the booking needs: no id, name, phone or
-- exact place, only district and distance.

-- Great-circle distance in kilometres (haversine).
CREATE FUNCTION bank.distance_km(lat1 double precision, lon1 double precision, lat2 double precision, lon2 double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 6371.0 * 2 * asin(sqrt(power(sin(radians(lat2 - lat1) / 2), 2)
                              + cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lon2 - lon1) / 2), 2)));

CREATE FUNCTION bank.order_define_item(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    item bigint;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.service_item (district_code, category_code, name_zh, name_en, default_minutes, request_id)
    VALUES (r.args->>'district_code', r.args->>'category_code', r.args->>'name_zh', r.args->>'name_en',
            (r.args->>'default_minutes')::integer, r.id)
    ON CONFLICT ON CONSTRAINT item_named_once DO NOTHING
    RETURNING id INTO item;
    IF item IS NULL THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R15: the district already has an item of that name');
        RETURN;
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('item_id', item));
END
$$;

-- R15: staff define a district's (or, with district NULL, the city's) item.
CREATE FUNCTION api.define_service_item(district_code text, category_code text, name_zh text, name_en text, default_minutes integer)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF district_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM bank.district d WHERE d.code = district_code) THEN
        PERFORM bank.refuse('district_code', 'R15', 'no Beijing district has code ' || district_code);
    END IF;
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
    RETURN bank.submit('define_service_item',
        jsonb_build_object('district_code', district_code, 'category_code', category_code, 'name_zh', btrim(name_zh),
                           'name_en', name_en, 'default_minutes', default_minutes),
        'order.define_item', 'order');
END
$$;

-- R15, R16: a demand for an item of the elder's district or a city-wide
-- one, at a place; its length defaults to the item's. Checks as
-- api.publish_demand, which does the rest.
CREATE FUNCTION api.publish_item_demand(
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
CREATE FUNCTION api.find_services(
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

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA bank FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO timebank_api;
GRANT EXECUTE ON FUNCTION bank.order_define_item(bigint), bank.distance_km(double precision, double precision, double precision, double precision)
    TO timebank_order;
