-- 0017: supervision (issue 8): R21 alerts and the watch list, R22 the
-- dishonest list.
--
-- R21: alerts are computed in SQL by bank.supervision_scan(), run by the
-- notification worker's supervision.scan jobs: one scheduled every
-- alert_scan_minutes, and one soon after the events that can trigger one (a gift, a check-out late
-- at night, a booking refused for overlapping, a check-out between two
-- people who serve each other). Thresholds and windows are bank.setting
-- rows. Each alert keeps its evidence (the services, transfers or
-- requests behind it), the people and accounts involved, and a status:
-- open, dismissed (with the reason) or confirmed.
--
-- R22: a supervisor's confirmation of fraud (api.confirm_fraud, carried out
-- by the settlement worker) puts the person on the dishonest list,
-- suspends the account for good (no new booking, check-in or settlement,
-- from any worker: the database refuses them, below), and takes back the
-- coins of the services found fraudulent by correcting transfers
-- (service_reversal, as an upheld R19 report does), never by editing the
-- ledger.

INSERT INTO bank.setting (name, value, description) VALUES
    ('alert_window_days', 30, 'R21 (ours): the window alerts look back over, in days'),
    ('alert_mutual_services', 4, 'R21 (ours): services between two people, in both directions, within the window, that raise an alert'),
    ('alert_gifts', 5, 'R21 (ours): gifts from or to one person within the window that raise an alert'),
    ('alert_overlap_attempts', 3, 'R21, R20 (ours): bookings refused for overlapping, by one volunteer within the window, that raise an alert'),
    ('alert_scan_minutes', 5, 'R21 (ours): how often the scheduled scan runs'),
    ('alert_event_delay_seconds', 30, 'R21 (ours): how long after a triggering event its scan runs (events meanwhile share it)');

CREATE TABLE bank.alert (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- mutual_services, late_night_service, frequent_gifts, overlapping_bookings.
    kind          text NOT NULL CONSTRAINT alert_kind_known CHECK (kind IN (
                      'mutual_services', 'late_night_service', 'frequent_gifts', 'overlapping_bookings')),
    -- What it is about, e.g. mutual:3:7 (two people), late_night:42 (a service), gifts:9 (a person).
    subject       text NOT NULL,
    -- The people and accounts involved (tracked: bank.watch_list).
    people        bigint[] NOT NULL,
    accounts      bigint[] NOT NULL DEFAULT '{}',
    -- {"services": [...]} | {"transfers": [...]} | {"requests": [...]}: the rows behind it.
    evidence      jsonb NOT NULL,
    -- The newest piece of evidence: a decided alert comes back only with newer evidence.
    evidence_at   timestamptz NOT NULL,
    status        text NOT NULL DEFAULT 'open' CONSTRAINT alert_status_known CHECK (status IN ('open', 'dismissed', 'confirmed')),
    detected_at   timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    decided_at    timestamptz,
    decided_by    text,
    decision_reason text,
    -- A decision names who and why.
    CONSTRAINT alert_decision_explained CHECK (
        (status = 'open') = (decided_at IS NULL) AND (decided_at IS NULL OR (decided_by IS NOT NULL AND decision_reason IS NOT NULL)))
);
COMMENT ON TABLE bank.alert IS 'R21: supervisors'' alerts with their evidence, the people and accounts involved, and a decision. 监管预警';
-- One open alert per subject: new evidence updates it.
CREATE UNIQUE INDEX alert_one_open_per_subject ON bank.alert (kind, subject) WHERE status = 'open';
CREATE INDEX alert_people_idx ON bank.alert USING gin (people);

-- R22: the dishonest list.
CREATE TABLE bank.dishonest_person (
    person_id  bigint PRIMARY KEY REFERENCES bank.person,
    reason     text NOT NULL CONSTRAINT dishonest_reason_given CHECK (length(reason) BETWEEN 1 AND 1000),
    decided_by text NOT NULL,
    alert_id   bigint REFERENCES bank.alert,
    request_id bigint NOT NULL CONSTRAINT dishonest_one_per_request UNIQUE REFERENCES bank.request,
    listed_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bank.dishonest_person IS 'R22: people whose fraud a supervisor confirmed: no service is recorded for them any more. 失信名单';

-- R21: what supervisors watch: everyone involved in an alert.
CREATE VIEW bank.watch_list AS
SELECT p.person_id,
       (SELECT a.id FROM bank.account a WHERE a.person_id = p.person_id) AS account_id,
       count(*) FILTER (WHERE al.status = 'open') AS open_alerts,
       count(*) FILTER (WHERE al.status = 'confirmed') AS confirmed_alerts,
       array_agg(DISTINCT al.kind ORDER BY al.kind) AS kinds,
       max(al.updated_at) AS last_alert_at,
       EXISTS (SELECT 1 FROM bank.dishonest_person d WHERE d.person_id = p.person_id) AS dishonest
  FROM bank.alert al CROSS JOIN LATERAL unnest(al.people) AS p(person_id)
 WHERE al.status <> 'dismissed'
 GROUP BY p.person_id;
COMMENT ON VIEW bank.watch_list IS 'R21: the people (and accounts) involved in open or confirmed alerts; `timebank supervision watch`. 重点关注名单';

-- Records what the detections found: updates the subject's open alert, or
-- opens one unless an alert of the subject was decided after its newest
-- evidence. Returns the ids of alerts opened.
CREATE FUNCTION bank.raise_alerts(detected jsonb) RETURNS SETOF bigint
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
CREATE FUNCTION bank.supervision_scan() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    since timestamptz := now() - bank.setting('alert_window_days') * interval '1 day';
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
        SELECT s.id, s.volunteer_id, s.elder_id, coalesce(s.checked_out_at, s.booked_at) AS at
          FROM bank.service s
         WHERE s.status IN ('booked', 'in_progress', 'checked_out') AND coalesce(s.checked_out_at, s.booked_at) >= since
           AND EXISTS (
               SELECT 1 FROM generate_series(
                        ((coalesce(s.checked_in_at, s.starts_at) AT TIME ZONE 'Asia/Shanghai')::date - 1)::timestamp,
                        ((coalesce(s.checked_out_at, s.ends_at) AT TIME ZONE 'Asia/Shanghai')::date)::timestamp,
                        interval '1 day') AS d(day)
                WHERE tstzrange(coalesce(s.checked_in_at, s.starts_at), coalesce(s.checked_out_at, s.ends_at))
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
CREATE FUNCTION bank.request_supervision_scan() RETURNS void
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

CREATE FUNCTION bank.scan_after_gifts() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_transfers WHERE kind = 'gift') THEN PERFORM bank.request_supervision_scan(); END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER transfer_supervised AFTER INSERT ON bank.transfer
    REFERENCING NEW TABLE AS new_transfers FOR EACH STATEMENT EXECUTE FUNCTION bank.scan_after_gifts();

CREATE FUNCTION bank.scan_after_service_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_events WHERE status IN ('booked', 'checked_out')) THEN PERFORM bank.request_supervision_scan(); END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER service_event_supervised AFTER INSERT ON bank.service_event
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION bank.scan_after_service_events();

CREATE FUNCTION bank.scan_after_refusals() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_requests WHERE status = 'refused' AND refusal LIKE 'R20:%') THEN PERFORM bank.request_supervision_scan(); END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER request_supervised AFTER UPDATE ON bank.request
    REFERENCING NEW TABLE AS new_requests FOR EACH STATEMENT EXECUTE FUNCTION bank.scan_after_refusals();

-- R21: a supervisor dismisses an alert, saying why.
CREATE FUNCTION api.dismiss_alert(alert_id bigint, supervisor text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    IF supervisor IS NULL OR length(btrim(supervisor)) = 0 OR reason IS NULL OR length(btrim(reason)) = 0 THEN
        PERFORM bank.refuse('reason', 'R21', 'a dismissal names the supervisor and the reason');
    END IF;
    UPDATE bank.alert a SET status = 'dismissed', decided_at = now(), decided_by = btrim(supervisor), decision_reason = btrim(reason),
                            updated_at = now()
     WHERE a.id = alert_id AND a.status = 'open';
    IF NOT FOUND THEN
        PERFORM bank.refuse('alert_id', 'R21', 'no open alert has this id');
    END IF;
END
$$;

-- R22: a supervisor confirms fraud: the person goes on the dishonest list;
-- the coins of `services` (the person's services found fraudulent) are
-- taken back. Carried out by the settlement worker (the ledger's writer).
CREATE FUNCTION api.confirm_fraud(person_id bigint, supervisor text, reason text, alert_id bigint DEFAULT NULL,
                                  services bigint[] DEFAULT '{}') RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM bank.person_for('person_id', person_id);
    IF supervisor IS NULL OR length(btrim(supervisor)) = 0 OR reason IS NULL OR length(btrim(reason)) = 0 THEN
        PERFORM bank.refuse('reason', 'R22', 'a confirmation of fraud names the supervisor and the reason');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.dishonest_person d WHERE d.person_id = person_id) THEN
        PERFORM bank.refuse('person_id', 'R22', 'the person is on the dishonest list already');
    END IF;
    IF alert_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM bank.alert a WHERE a.id = alert_id AND a.status = 'open' AND person_id = ANY (a.people)) THEN
        PERFORM bank.refuse('alert_id', 'R22', 'no open alert with this id involves the person');
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(coalesce(services, '{}')) x(id)
                WHERE NOT EXISTS (SELECT 1 FROM bank.service s WHERE s.id = x.id AND s.volunteer_id = person_id
                                     AND s.status = 'checked_out' AND s.settled_at IS NOT NULL)) THEN
        PERFORM bank.refuse('services', 'R22', 'the services found fraudulent are settled services the person served');
    END IF;
    RETURN bank.submit('confirm_fraud',
        jsonb_build_object('person_id', person_id, 'supervisor', btrim(supervisor), 'reason', btrim(reason), 'alert_id', alert_id,
                           'services', to_jsonb(coalesce(services, '{}'))),
        'settlement.confirm_fraud', 'settlement');
END
$$;

-- R19, R22: takes back a service's credit by a correcting transfer (as
-- much as the volunteer still has; the rest is a debt), recorded as an
-- upheld report. Returns the minutes taken back.
CREATE FUNCTION bank.reverse_service_credit(service bigint, request bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    credit bank.transfer;
    elder_account bigint;
    back bigint := 0;
BEGIN
    SELECT * INTO credit FROM bank.transfer t WHERE t.service_id = service AND t.kind = 'service_credit';
    IF credit.id IS NOT NULL THEN
        SELECT h.debit_account_id INTO elder_account FROM bank.service s JOIN bank.transfer h ON h.id = s.hold_transfer_id WHERE s.id = service;
        PERFORM 1 FROM bank.account WHERE id = credit.credit_account_id FOR NO KEY UPDATE;
        SELECT least(credit.amount, greatest(0, a.credits_posted - a.debits_posted - a.debits_pending)) INTO back
          FROM bank.account a WHERE a.id = credit.credit_account_id;
        IF back > 0 THEN
            INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, service_id, request_id)
            VALUES ('reverse:' || service, 'posted', 'service_reversal', credit.credit_account_id, elder_account, back, service, request)
            ON CONFLICT (idempotency_key) DO NOTHING;
        END IF;
    END IF;
    RETURN back;
END
$$;

-- settlement.confirm_fraud: the dishonest list, the account suspended for
-- good, the alert confirmed, the fraudulent services' coins taken back.
CREATE FUNCTION bank.settlement_confirm_fraud(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    person bigint;
    service bigint;
    back bigint;
    total bigint := 0;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    person := (r.args->>'person_id')::bigint;
    INSERT INTO bank.dishonest_person (person_id, reason, decided_by, alert_id, request_id)
    VALUES (person, r.args->>'reason', r.args->>'supervisor', (r.args->>'alert_id')::bigint, r.id)
    ON CONFLICT (person_id) DO NOTHING;
    UPDATE bank.person p SET status = 'suspended', status_reason = 'R22: on the dishonest list', status_request_id = r.id
     WHERE p.id = person AND p.status = 'active';
    UPDATE bank.alert a SET status = 'confirmed', decided_at = now(), decided_by = r.args->>'supervisor',
                            decision_reason = r.args->>'reason', updated_at = now()
     WHERE a.id = (r.args->>'alert_id')::bigint AND a.status = 'open';
    FOR service IN SELECT (jsonb_array_elements_text(r.args->'services'))::bigint LOOP
        INSERT INTO bank.service_dispute (service_id, reason, request_id) VALUES (service, 'R22: fraud confirmed: ' || (r.args->>'reason'), r.id)
        ON CONFLICT (service_id) DO NOTHING;
        CONTINUE WHEN EXISTS (SELECT 1 FROM bank.service_dispute d WHERE d.service_id = service AND d.decided_at IS NOT NULL);
        back := bank.reverse_service_credit(service, r.id);
        UPDATE bank.service_dispute d
           SET decided_at = now(), decided_by = r.args->>'supervisor', upheld = true, decision_note = 'R22: fraud confirmed',
               reversed_minutes = back,
               debt_minutes = coalesce((SELECT t.amount FROM bank.transfer t WHERE t.service_id = service AND t.kind = 'service_credit'), 0) - back
         WHERE d.service_id = service;
        total := total + back;
    END LOOP;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('person_id', person, 'reversed_minutes', total));
END
$$;

-- R22, in the database, whoever writes: a person on the dishonest list is
-- not reinstated, and no service of theirs is booked, checked in or
-- settled any more.
CREATE FUNCTION bank.refuse_dishonest_person_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.status = 'active' AND EXISTS (SELECT 1 FROM bank.dishonest_person d WHERE d.person_id = NEW.id) THEN
        RAISE EXCEPTION 'R22: person % is on the dishonest list and is not reinstated', NEW.id
            USING ERRCODE = 'check_violation', COLUMN = 'status';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER person_dishonest_stays_suspended BEFORE UPDATE OF status ON bank.person
    FOR EACH ROW WHEN (NEW.status = 'active') EXECUTE FUNCTION bank.refuse_dishonest_person_change();

CREATE FUNCTION bank.refuse_dishonest_service() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM bank.dishonest_person LIMIT 1) AND EXISTS (
        SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
          JOIN bank.dishonest_person d ON d.person_id IN (n.volunteer_id, n.companion_id)
         WHERE (n.status IN ('booked', 'in_progress', 'checked_out') AND n.status IS DISTINCT FROM o.status)
            OR (n.settled_at IS NOT NULL AND o.settled_at IS NULL)) THEN
        RAISE EXCEPTION 'R22: no service is recorded any more for a person on the dishonest list'
            USING ERRCODE = 'check_violation', COLUMN = 'volunteer_id';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER service_not_for_the_dishonest AFTER UPDATE ON bank.service
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bank.refuse_dishonest_service();

-- R22 in the api: reinstating a person on the dishonest list is refused
-- before anything is written (the database refuses it too, above).
CREATE OR REPLACE FUNCTION api.set_person_status(person_id bigint, status text, staff text, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p bank.person := bank.person_for('person_id', person_id);
BEGIN
    IF status IS NULL OR status NOT IN ('active', 'suspended', 'closed') THEN
        PERFORM bank.refuse('status', 'R3', 'a person is active, suspended or closed');
    END IF;
    IF p.status = 'closed' THEN
        PERFORM bank.refuse('person_id', 'R3', 'a closed account stays closed; its history is kept');
    END IF;
    IF status = 'active' AND EXISTS (SELECT 1 FROM bank.dishonest_person d WHERE d.person_id = set_person_status.person_id) THEN
        PERFORM bank.refuse('status', 'R22', 'a person on the dishonest list is not reinstated');
    END IF;
    IF staff IS NULL OR length(btrim(staff)) = 0 OR reason IS NULL OR length(btrim(reason)) = 0 THEN
        PERFORM bank.refuse('reason', 'R3', 'a change of status names the staff member and the reason');
    END IF;
    IF status = 'closed' AND EXISTS (
        SELECT 1 FROM bank.service s
         WHERE (s.volunteer_id = set_person_status.person_id OR s.elder_id = set_person_status.person_id)
           AND (s.status IN ('awaiting_review', 'published', 'booked', 'in_progress')
                OR (s.status = 'checked_out' AND s.settled_at IS NULL))) THEN
        PERFORM bank.refuse('person_id', 'R3', 'an account with open or unsettled services cannot be closed yet');
    END IF;
    RETURN bank.submit('set_person_status',
        jsonb_build_object('person_id', person_id, 'status', status, 'staff', btrim(staff), 'reason', btrim(reason)),
        'enrollment.set_status', 'enrollment');
END
$$;

-- R19 decisions take back credits through the same function as R22.
CREATE OR REPLACE FUNCTION bank.settlement_decide_dispute(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    d bank.service_dispute;
    back bigint := 0;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    SELECT * INTO d FROM bank.service_dispute WHERE service_id = (r.args->>'service_id')::bigint FOR UPDATE;
    IF d.decided_at IS NOT NULL THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R19: the report is already decided');
        RETURN;
    END IF;
    IF (r.args->>'upheld')::boolean THEN
        back := bank.reverse_service_credit(d.service_id, r.id);
        UPDATE bank.service_dispute
           SET decided_at = now(), decided_by = r.args->>'staff', upheld = true, decision_note = r.args->>'note',
               reversed_minutes = back,
               debt_minutes = coalesce((SELECT t.amount FROM bank.transfer t WHERE t.service_id = d.service_id AND t.kind = 'service_credit'), 0) - back
         WHERE service_id = d.service_id;
    ELSE
        UPDATE bank.service_dispute
           SET decided_at = now(), decided_by = r.args->>'staff', upheld = false, decision_note = r.args->>'note'
         WHERE service_id = d.service_id;
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', d.service_id, 'reversed_minutes', back));
END
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA bank FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO timebank_api;
GRANT EXECUTE ON FUNCTION bank.supervision_scan() TO timebank_notification;
GRANT EXECUTE ON FUNCTION bank.settlement_confirm_fraud(bigint), bank.reverse_service_credit(bigint, bigint) TO timebank_settlement;
GRANT EXECUTE ON FUNCTION bank.setting(text) TO timebank_notification;
