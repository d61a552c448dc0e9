-- order-worker (timebank_order): a service's life (see
-- sql/migrations/0005_services.sql): created from a held demand,
-- reviewed, booked, checked in and out (R16-R18), cancelled, expired, or
-- marked a no-show.

-- A held demand becomes a service awaiting review.
CREATE OR REPLACE FUNCTION bank.order_create_service(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['publish_demand']);
    created bigint;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.service (request_id, elder_id, category_code, district_code, description, starts_at, ends_at, hold_transfer_id,
                              item_id, latitude, longitude)
    SELECT r.id, (r.args->>'elder_id')::bigint, r.args->>'category_code', r.args->>'district_code', r.args->>'description',
           (r.args->>'starts_at')::timestamptz,
           (r.args->>'starts_at')::timestamptz + (r.args->>'minutes')::integer * interval '1 minute',
           h.id, (r.args->>'item_id')::bigint, (r.args->>'latitude')::double precision, (r.args->>'longitude')::double precision
      FROM bank.transfer h WHERE h.idempotency_key = 'hold:' || r.id
    ON CONFLICT ON CONSTRAINT service_one_per_request DO NOTHING
    RETURNING id INTO created;
    IF created IS NULL THEN
        SELECT id INTO created FROM bank.service s WHERE s.request_id = r.id;
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', created));
END
$$;

-- R16: staff approve a demand (volunteers can see it) or reject it.
CREATE OR REPLACE FUNCTION bank.order_review(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['review_demand']);
    s bank.service;
    approve boolean;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    s := bank.locked_service(r);
    approve := (r.args->>'approve')::boolean;
    IF s.status <> 'awaiting_review' THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R16: the demand is ' || s.status || ', not awaiting review');
        RETURN;
    END IF;
    UPDATE bank.service
       SET status = CASE WHEN approve THEN 'published' ELSE 'rejected' END::bank.service_status,
           reviewed_by = r.args->>'reviewer', reviewed_at = bank.clock_now(), review_note = r.args->>'note'
     WHERE id = s.id;
    IF approve THEN
        -- Unbooked when it starts: it expires and the hold goes back.
        PERFORM jobs.enqueue('order.expire', jsonb_build_object('id', s.id), 'order', run_at => s.starts_at - bank.clock_offset());
    ELSE
        PERFORM jobs.enqueue('settlement.release', jsonb_build_object('id', s.id), 'settlement');
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', s.id, 'status', CASE WHEN approve THEN 'published' ELSE 'rejected' END));
END
$$;

-- R17, R20: a volunteer books a published service. Two bookings whose
-- times overlap cannot both stand: the exclusion constraint refuses the
-- second, whichever order worker writes it.
CREATE OR REPLACE FUNCTION bank.order_book(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['book_service']);
    s bank.service;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    s := bank.locked_service(r);
    IF NOT bank.person_active((r.args->>'volunteer_id')::bigint) THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R1: a suspended or closed volunteer books nothing');
        RETURN;
    END IF;
    IF s.status <> 'published' OR s.starts_at <= bank.clock_now() THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R17: the service is no longer open for booking');
        RETURN;
    END IF;
    BEGIN
        UPDATE bank.service SET status = 'booked', volunteer_id = (r.args->>'volunteer_id')::bigint, booked_at = bank.clock_now()
         WHERE id = s.id;
    EXCEPTION WHEN exclusion_violation THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R20: the volunteer has another booking at an overlapping time');
        RETURN;
    END;
    PERFORM jobs.enqueue('order.no_show', jsonb_build_object('id', s.id), 'order',
                         run_at => s.starts_at + bank.setting('no_show_grace_minutes') * interval '1 minute' - bank.clock_offset());
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', s.id));
END
$$;

-- R18: check-in, at the time the request reached the platform.
CREATE OR REPLACE FUNCTION bank.order_check_in(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['check_in']);
    s bank.service;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    s := bank.locked_service(r);
    IF s.status <> 'booked' OR s.volunteer_id <> (r.args->>'volunteer_id')::bigint THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R18: the service is ' || s.status || ', not booked by this volunteer');
        RETURN;
    END IF;
    -- api.check_in refused it after the end; a request made otherwise is refused here too.
    IF r.created_at >= s.ends_at THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R18: check-in closes at the booked end');
        RETURN;
    END IF;
    UPDATE bank.service SET status = 'in_progress', checked_in_at = r.created_at WHERE id = s.id;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', s.id, 'checked_in_at', r.created_at));
END
$$;

-- R18, R6: check-out records the service time and enqueues its
-- settlement in the same transaction: the coins follow for certain.
CREATE OR REPLACE FUNCTION bank.order_check_out(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['check_out']);
    s bank.service;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    s := bank.locked_service(r);
    IF s.status <> 'in_progress' OR s.volunteer_id <> (r.args->>'volunteer_id')::bigint THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R18: the service is ' || s.status || ', not checked in by this volunteer');
        RETURN;
    END IF;
    UPDATE bank.service SET status = 'checked_out', checked_out_at = greatest(r.created_at, s.checked_in_at) WHERE id = s.id;
    PERFORM jobs.enqueue('settlement.settle', jsonb_build_object('id', s.id), 'settlement', unique_key => s.id::text);
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', s.id));
END
$$;

-- The elder cancels before the service begins; the hold goes back.
CREATE OR REPLACE FUNCTION bank.order_cancel(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['cancel_service']);
    s bank.service;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    s := bank.locked_service(r);
    IF s.status NOT IN ('awaiting_review', 'published', 'booked') THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R16: a service that is ' || s.status || ' can no longer be cancelled');
        RETURN;
    END IF;
    UPDATE bank.service SET status = 'cancelled' WHERE id = s.id;
    PERFORM jobs.enqueue('settlement.release', jsonb_build_object('id', s.id), 'settlement');
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', s.id));
END
$$;

-- Scheduled at the start: nobody booked it, so it expires.
CREATE OR REPLACE FUNCTION bank.order_expire(wanted bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE bank.service SET status = 'expired' WHERE id = wanted AND status = 'published' AND starts_at <= bank.clock_now();
    IF FOUND THEN
        PERFORM jobs.enqueue('settlement.release', jsonb_build_object('id', wanted), 'settlement');
    END IF;
END
$$;

-- Scheduled at the start plus the grace: booked but never checked in.
CREATE OR REPLACE FUNCTION bank.order_no_show(wanted bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE bank.service SET status = 'no_show'
     WHERE id = wanted AND status = 'booked'
       AND starts_at + bank.setting('no_show_grace_minutes') * interval '1 minute' <= bank.clock_now();
    IF FOUND THEN
        PERFORM jobs.enqueue('settlement.release', jsonb_build_object('id', wanted), 'settlement');
    END IF;
END
$$;
