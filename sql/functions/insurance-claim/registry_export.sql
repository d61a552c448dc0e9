-- insurance-claim-worker (timebank_insurance_claim): the daily export of
-- settled services to Volunteer Beijing (R24), chunk by chunk, signed.

-- The next unsent chunk of a day's export (services settled that day, in
-- Beijing time, of volunteers registered with Volunteer Beijing), signed;
-- no row when the day is done, url NULL when no endpoint is configured.
CREATE OR REPLACE FUNCTION bank.registry_export_next(day date)
RETURNS TABLE (chunk integer, url text, timeout_ms integer, body text, signature text,
               first_service_id bigint, last_service_id bigint, records integer, minutes bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    i bank.insurer;
    after_id bigint;
    rows jsonb;
BEGIN
    SELECT * INTO i FROM bank.insurer WHERE code = 'volunteer_beijing';
    SELECT coalesce(max(e.chunk), 0) + 1, coalesce(max(e.last_service_id), 0) INTO chunk, after_id
      FROM bank.registry_export e WHERE e.day = registry_export_next.day;
    SELECT jsonb_agg(jsonb_build_object('registry_record_id', r.record_id, 'service_id', s.id,
                                        'date', (s.checked_in_at AT TIME ZONE 'Asia/Shanghai')::date,
                                        'category', s.category_code, 'district', s.district_code,
                                        'minutes', s.settled_minutes, 'hours', round(s.settled_minutes / 60.0, 2)) ORDER BY s.id),
           min(s.id), max(s.id), count(*), sum(s.settled_minutes)
      INTO rows, first_service_id, last_service_id, records, minutes
      FROM (SELECT * FROM bank.service sv
             WHERE sv.settled_at >= (day::timestamp AT TIME ZONE 'Asia/Shanghai')
               AND sv.settled_at < ((day + 1)::timestamp AT TIME ZONE 'Asia/Shanghai')
               AND sv.id > after_id
               AND EXISTS (SELECT 1 FROM bank.volunteer_beijing_registration r WHERE r.person_id = sv.volunteer_id)
             ORDER BY sv.id LIMIT bank.setting('registry_export_chunk')) s
      JOIN bank.volunteer_beijing_registration r ON r.person_id = s.volunteer_id;
    IF records = 0 THEN RETURN; END IF;
    url := i.export_url;
    timeout_ms := i.timeout_ms;
    body := jsonb_build_object('day', day, 'chunk', chunk, 'idempotency_key', 'export:' || day || ':' || chunk,
                               'records', rows)::text;
    signature := CASE WHEN i.export_url IS NOT NULL THEN encode(public.hmac(body, i.secret, 'sha256'), 'hex') END;
    RETURN NEXT;
END
$$;

-- Once per day and chunk, whatever the retries.
CREATE OR REPLACE FUNCTION bank.registry_export_record(day date, chunk integer, first_service_id bigint, last_service_id bigint,
                                            records integer, minutes bigint, http_status integer, latency_ms integer)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO bank.registry_export (day, chunk, first_service_id, last_service_id, records, minutes, http_status, latency_ms)
    VALUES (day, chunk, first_service_id, last_service_id, records, minutes, http_status, latency_ms)
    ON CONFLICT DO NOTHING
$$;
