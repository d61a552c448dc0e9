-- supervision (R21): alerts computed by bank.supervision_scan, run by the
-- notification worker's supervision.scan jobs (periodic, and soon after
-- the events that can raise one: the triggers below ask for a scan).

-- Records what the detections found: updates the subject's open alert, or
-- opens one unless an alert of the subject was decided after its newest
-- evidence. Returns the ids of alerts opened.
CREATE OR REPLACE FUNCTION bank.raise_alerts(detected jsonb) RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
DECLARE
    f record;
    opened bigint;
BEGIN
    FOR f IN SELECT * FROM jsonb_to_recordset(detected)
                 AS x(kind text, subject text, people bigint[], evidence jsonb, evidence_at timestamptz) LOOP
        UPDATE bank.alert a SET evidence = f.evidence, evidence_at = f.evidence_at, people = f.people, updated_at = now(),
               accounts = ARRAY(SELECT ac.id FROM bank.account ac WHERE ac.person_id = ANY (f.people) ORDER BY ac.id)
         WHERE a.kind = f.kind AND a.subject = f.subject AND a.status = 'open';
        CONTINUE WHEN FOUND;
        CONTINUE WHEN EXISTS (SELECT 1 FROM bank.alert a WHERE a.kind = f.kind AND a.subject = f.subject AND a.decided_at >= f.evidence_at);
        INSERT INTO bank.alert (kind, subject, people, accounts, evidence, evidence_at)
        VALUES (f.kind, f.subject, f.people,
                ARRAY(SELECT ac.id FROM bank.account ac WHERE ac.person_id = ANY (f.people) ORDER BY ac.id), f.evidence, f.evidence_at)
        RETURNING id INTO opened;
        PERFORM bank.alert_supervisors('supervision_alert',
            jsonb_build_object('alert_id', opened, 'kind', f.kind, 'people', cardinality(f.people)));
        RETURN NEXT opened;
    END LOOP;
END
$$;

-- R21: every detection over the window, set-based; idempotent (run it any
-- number of times). Returns how many alerts it opened.
CREATE OR REPLACE FUNCTION bank.supervision_scan() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    since timestamptz := bank.clock_now() - bank.setting('alert_window_days') * interval '1 day';
    detected jsonb;
BEGIN
    -- Serialise scans: two at once would open the same alert twice.
    PERFORM pg_advisory_xact_lock(hashtext('timebank.supervision_scan'));
    WITH served AS (
        SELECT s.id, s.volunteer_id AS server, s.elder_id AS served, s.checked_out_at
          FROM bank.service s WHERE s.status = 'checked_out' AND s.checked_out_at >= since
    ), mutual AS (
        -- Two people who each served the other, often.
        SELECT least(a.server, a.served) AS one, greatest(a.server, a.served) AS other,
               array_agg(DISTINCT a.id ORDER BY a.id) AS services, max(a.checked_out_at) AS newest
          FROM served a
         WHERE EXISTS (SELECT 1 FROM served b WHERE b.server = a.served AND b.served = a.server)
         GROUP BY 1, 2
        HAVING count(DISTINCT a.id) >= bank.setting('alert_mutual_services')
    ), late AS (
        -- R21: a service (booked or served) touching 22:00-06:00 in Beijing.
        -- Its span runs from check-in (else the booked start) to check-out
        -- (else the booked end), whichever comes first: a row checked in
        -- after its booked end (refused by api.check_in since issue 14, but
        -- a database may hold older ones) spans from its end to its check-in.
        SELECT s.id, s.volunteer_id, s.elder_id, coalesce(s.checked_out_at, s.booked_at) AS at
          FROM bank.service s
         CROSS JOIN LATERAL (
               SELECT least(coalesce(s.checked_in_at, s.starts_at), coalesce(s.checked_out_at, s.ends_at)) AS first,
                      greatest(coalesce(s.checked_in_at, s.starts_at), coalesce(s.checked_out_at, s.ends_at)) AS last) span
         WHERE s.status IN ('booked', 'in_progress', 'checked_out') AND coalesce(s.checked_out_at, s.booked_at) >= since
           AND EXISTS (
               SELECT 1 FROM generate_series(
                        ((span.first AT TIME ZONE 'Asia/Shanghai')::date - 1)::timestamp,
                        ((span.last AT TIME ZONE 'Asia/Shanghai')::date)::timestamp,
                        interval '1 day') AS d(day)
                WHERE tstzrange(span.first, span.last)
                      && tstzrange((d.day + interval '22 hours') AT TIME ZONE 'Asia/Shanghai',
                                   (d.day + interval '30 hours') AT TIME ZONE 'Asia/Shanghai'))
    ), gifts AS (
        SELECT g.person, array_agg(DISTINCT g.id ORDER BY g.id) AS transfers, array_agg(DISTINCT g.other) AS others,
               max(g.created_at) AS newest
          FROM (SELECT t.id, t.created_at, da.person_id AS person, ca.person_id AS other FROM bank.transfer t
                  JOIN bank.account da ON da.id = t.debit_account_id JOIN bank.account ca ON ca.id = t.credit_account_id
                 WHERE t.kind = 'gift' AND t.created_at >= since
                UNION ALL
                SELECT t.id, t.created_at, ca.person_id, da.person_id FROM bank.transfer t
                  JOIN bank.account da ON da.id = t.debit_account_id JOIN bank.account ca ON ca.id = t.credit_account_id
                 WHERE t.kind = 'gift' AND t.created_at >= since) g
         GROUP BY g.person
        HAVING count(DISTINCT g.id) >= bank.setting('alert_gifts')
    ), overlapping AS (
        SELECT (r.args->>'volunteer_id')::bigint AS volunteer, array_agg(r.id ORDER BY r.id) AS requests, max(r.finished_at) AS newest
          FROM bank.request r
         WHERE r.kind = 'book_service' AND r.status = 'refused' AND r.refusal LIKE 'R20:%' AND r.finished_at >= since
         GROUP BY 1
        HAVING count(*) >= bank.setting('alert_overlap_attempts')
    )
    SELECT coalesce(jsonb_agg(x), '[]') INTO detected FROM (
        SELECT 'mutual_services' AS kind, 'mutual:' || one || ':' || other AS subject, ARRAY[one, other] AS people,
               jsonb_build_object('services', services) AS evidence, newest AS evidence_at FROM mutual
        UNION ALL
        SELECT 'late_night_service', 'late_night:' || id, ARRAY[volunteer_id, elder_id], jsonb_build_object('services', ARRAY[id]), at FROM late
        UNION ALL
        SELECT 'frequent_gifts', 'gifts:' || person, ARRAY[person] || others, jsonb_build_object('transfers', transfers), newest FROM gifts
        UNION ALL
        SELECT 'overlapping_bookings', 'overlaps:' || volunteer, ARRAY[volunteer], jsonb_build_object('requests', requests), newest FROM overlapping
    ) x;
    RETURN (SELECT count(*) FROM bank.raise_alerts(detected));
END
$$;

-- The events that can trigger an alert ask for a scan soon, due
-- alert_event_delay_seconds after the first event: while one is still
-- scheduled for later, later events share it, so a burst of check-outs
-- costs one scan, not one each. A scan that is due or running does not
-- count: it may start before this event's transaction commits and not see
-- it. So no unique key; two transactions racing here may both enqueue
-- one, which is harmless (scans are serialised and idempotent).
CREATE OR REPLACE FUNCTION bank.request_supervision_scan() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM jobs.job j
                    WHERE j.kind = 'supervision.scan' AND j.state = 'scheduled' AND j.run_at > now() + interval '1 second'
                      AND j.unique_key IS NULL) THEN
        PERFORM jobs.enqueue('supervision.scan', '{}', 'notifications',
                             run_at => now() + bank.setting('alert_event_delay_seconds') * interval '1 second');
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION bank.scan_after_gifts() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_transfers WHERE kind = 'gift') THEN PERFORM bank.request_supervision_scan(); END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER transfer_supervised AFTER INSERT ON bank.transfer
    REFERENCING NEW TABLE AS new_transfers FOR EACH STATEMENT EXECUTE FUNCTION bank.scan_after_gifts();

CREATE OR REPLACE FUNCTION bank.scan_after_service_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_events WHERE status IN ('booked', 'checked_out')) THEN PERFORM bank.request_supervision_scan(); END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER service_event_supervised AFTER INSERT ON bank.service_event
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION bank.scan_after_service_events();

CREATE OR REPLACE FUNCTION bank.scan_after_refusals() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_requests WHERE status = 'refused' AND refusal LIKE 'R20:%') THEN PERFORM bank.request_supervision_scan(); END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER request_supervised AFTER UPDATE ON bank.request
    REFERENCING NEW TABLE AS new_requests FOR EACH STATEMENT EXECUTE FUNCTION bank.scan_after_refusals();
