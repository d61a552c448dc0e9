-- order-worker (timebank_order): R15 district service items, and R2
-- minors joining the service a guardian booked.

CREATE OR REPLACE FUNCTION bank.order_define_item(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['define_service_item']);
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

-- R2: the minor joins the service the guardian booked.
CREATE OR REPLACE FUNCTION bank.order_join_as_minor(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['join_as_minor']);
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
