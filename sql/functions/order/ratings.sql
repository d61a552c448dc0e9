-- order-worker (timebank_order): R19 ratings, and reports that a service
-- was not given.

CREATE OR REPLACE FUNCTION bank.order_rate(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['rate_service']);
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.service_rating (service_id, score, comment, request_id)
    VALUES ((r.args->>'service_id')::bigint, (r.args->>'score')::smallint, r.args->>'comment', r.id)
    ON CONFLICT (service_id) DO NOTHING;
    IF NOT FOUND THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R19: the service is already rated');
        RETURN;
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', (r.args->>'service_id')::bigint));
END
$$;

CREATE OR REPLACE FUNCTION bank.order_report_not_given(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['report_not_given']);
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.service_dispute (service_id, reason, request_id)
    VALUES ((r.args->>'service_id')::bigint, r.args->>'reason', r.id)
    ON CONFLICT (service_id) DO NOTHING;
    IF NOT FOUND THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R19: the service is already reported');
        RETURN;
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', (r.args->>'service_id')::bigint));
END
$$;
