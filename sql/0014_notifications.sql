-- 0014: the outbox of the notification worker (issue 7).
--
-- Every event that concerns a person, an agent institution or the
-- supervisors writes its message here in the event's own transaction, by
-- a trigger on the table the event changes: nothing is sent from inside a
-- domain transaction, and no message exists for an event that rolled back.
-- The notification-worker sends them afterwards, through the channels its
-- configuration names for each kind of recipient, and records every
-- attempt.
--
-- Cost on the settlement path: one statement-level trigger per statement
-- (a batch of 100 credits writes its 100 messages in one INSERT ... SELECT)
-- and one notify.dispatch job per statement, which the notification worker
-- fans out into one notify.deliver job per message, off the critical path.
--
-- R23: a message carries ids, times and amounts, never a national ID, a
-- name, a phone number or an address; a channel that needs the phone
-- number to reach the person reads it when it sends (WebhookChannel).

CREATE TABLE bank.message (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- A text file of templates/notifications/ with this name (Chinese first).
    template             text NOT NULL CONSTRAINT message_template_named CHECK (template ~ '^[a-z][a-z_]{1,60}$'),
    -- person: the person themself; agent_institution: the institution a
    -- person registered through acts for them (R5), so it is reached
    -- instead; supervisors: the time bank's supervisors.
    recipient_kind       text NOT NULL CONSTRAINT message_recipient_kind_known
                         CHECK (recipient_kind IN ('person', 'agent_institution', 'supervisors')),
    -- Whom it concerns (for an agent institution: the person it acts for).
    person_id            bigint REFERENCES bank.person,
    agent_institution_id bigint REFERENCES bank.agent_institution,
    -- The template's named parameters: ids, times, amounts; never personal data (R23).
    params               jsonb NOT NULL DEFAULT '{}' CONSTRAINT message_params_object CHECK (jsonb_typeof(params) = 'object'),
    -- Urgent messages (a claim's state, a supervisors' alert) ignore quiet hours.
    urgent               boolean NOT NULL DEFAULT false,
    -- A reminder is sent before its service, and only while it is still booked.
    service_id           bigint REFERENCES bank.service,
    deliver_after        timestamptz NOT NULL DEFAULT now(),
    created_at           timestamptz NOT NULL DEFAULT now(),
    -- When an operator last asked for it to be sent again (`timebank
    -- deliveries retry`): channels that failed before are tried again.
    retried_at           timestamptz,
    -- Each kind of recipient names exactly whom it needs.
    CONSTRAINT message_recipient_named CHECK (CASE recipient_kind
        WHEN 'person' THEN person_id IS NOT NULL AND agent_institution_id IS NULL
        WHEN 'agent_institution' THEN person_id IS NOT NULL AND agent_institution_id IS NOT NULL
        ELSE person_id IS NULL AND agent_institution_id IS NULL END)
);
COMMENT ON TABLE bank.message IS 'The outbox: one row per message an event owes a person, an agent institution (R5) or the supervisors; written in the event''s transaction, sent by the notification worker. 通知发件箱';
CREATE INDEX message_person_idx ON bank.message (person_id) WHERE person_id IS NOT NULL;

-- Every attempt to deliver a message on a channel: when, how long, what
-- the receiver answered. Operators read failed deliveries from here
-- (`timebank deliveries`).
CREATE TABLE bank.delivery_attempt (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id   bigint NOT NULL REFERENCES bank.message,
    -- The configured channel's name (sms, desk, file...).
    channel      text NOT NULL,
    started_at   timestamptz NOT NULL,
    latency_ms   integer NOT NULL CONSTRAINT attempt_latency_counted CHECK (latency_ms >= 0),
    -- The HTTP status, when there was an answer.
    http_status  integer,
    -- delivered; retry (timeout, 5xx, connection lost: tried again);
    -- failed (4xx or a bad configuration: permanent); obsolete (a reminder
    -- for a service no longer booked: not sent).
    outcome      text NOT NULL CONSTRAINT attempt_outcome_known CHECK (outcome IN ('delivered', 'retry', 'failed', 'obsolete')),
    -- The receiver's answer or the error, shortened; never the payload.
    answer       text CONSTRAINT attempt_answer_short CHECK (length(answer) <= 500),
    -- The worker instance that made it.
    worker       text NOT NULL
);
COMMENT ON TABLE bank.delivery_attempt IS 'Every attempt to deliver a message on a channel: time, latency, status, outcome, answer. 通知投递记录';
CREATE INDEX delivery_attempt_message_idx ON bank.delivery_attempt (message_id, channel);
-- At most one successful delivery per message and channel: a worker that
-- died between sending and recording sends again with the same idempotency
-- key (the receiver drops it), and records the second success at most once.
CREATE UNIQUE INDEX delivery_attempt_delivered_once ON bank.delivery_attempt (message_id, channel) WHERE outcome = 'delivered';

INSERT INTO bank.setting (name, value, description) VALUES
    ('reminder_minutes_before_service', 120, 'How long before a booked service its volunteer is reminded (ours)');

-- The messages of a set of events: to each person concerned, or to the
-- agent institution the person registered through (R5).
CREATE FUNCTION bank.queue_messages(template text, people bigint[], params jsonb[], urgent boolean DEFAULT false,
                                    services bigint[] DEFAULT NULL, deliver_after timestamptz[] DEFAULT NULL)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO bank.message (template, recipient_kind, person_id, agent_institution_id, params, urgent, service_id, deliver_after)
    SELECT queue_messages.template,
           CASE WHEN p.agent_institution_id IS NULL THEN 'person' ELSE 'agent_institution' END,
           p.id, p.agent_institution_id, e.params, queue_messages.urgent, e.service_id, coalesce(e.deliver_after, now())
      FROM unnest(people, params, services, deliver_after) AS e(person_id, params, service_id, deliver_after)
      JOIN bank.person p ON p.id = e.person_id
     ORDER BY p.id
$$;

-- A time as the people of Beijing read it.
CREATE FUNCTION bank.local_time_text(at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN to_char(at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI');

-- A service's changes of state: its demand approved (published) or
-- rejected, its booking (to the elder: service_booked; to the volunteer:
-- booking_confirmed, and a reminder to the volunteer before it starts), its demand expired (the
-- hold is released).
CREATE FUNCTION bank.message_service_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.queue_messages(m.template, array_agg(m.person_id), array_agg(m.params), false,
                                array_agg(m.service_id), array_agg(m.deliver_after))
      FROM (
        SELECT CASE e.status WHEN 'published' THEN 'demand_approved' WHEN 'rejected' THEN 'demand_rejected'
                             WHEN 'expired' THEN 'demand_expired' ELSE 'service_booked' END AS template,
               s.elder_id AS person_id, NULL::bigint AS service_id, NULL::timestamptz AS deliver_after,
               jsonb_build_object('service_id', s.id, 'starts_at', bank.local_time_text(s.starts_at),
                                  'coins', round(s.booked_minutes / 60.0, 2)) AS params
          FROM new_events e JOIN bank.service s ON s.id = e.service_id
         WHERE e.status IN ('published', 'rejected', 'expired', 'booked')
        UNION ALL
        SELECT 'booking_confirmed', s.volunteer_id, NULL, NULL,
               jsonb_build_object('service_id', s.id, 'starts_at', bank.local_time_text(s.starts_at))
          FROM new_events e JOIN bank.service s ON s.id = e.service_id
         WHERE e.status = 'booked'
        UNION ALL
        SELECT 'service_reminder', s.volunteer_id, s.id,
               s.starts_at - bank.setting('reminder_minutes_before_service') * interval '1 minute',
               jsonb_build_object('service_id', s.id, 'starts_at', bank.local_time_text(s.starts_at))
          FROM new_events e JOIN bank.service s ON s.id = e.service_id
         WHERE e.status = 'booked'
      ) m
     GROUP BY m.template;
    RETURN NULL;
END
$$;
CREATE TRIGGER service_event_messages AFTER INSERT ON bank.service_event
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION bank.message_service_events();

-- Coins credited after a check-out (R6), and coins received as a gift (R8).
CREATE FUNCTION bank.message_transfers() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.queue_messages(m.template, array_agg(m.person_id), array_agg(m.params))
      FROM (
        SELECT CASE t.kind WHEN 'service_credit' THEN 'coins_credited' ELSE 'gift_received' END AS template,
               a.person_id,
               jsonb_strip_nulls(jsonb_build_object('service_id', t.service_id, 'minutes', t.amount,
                                                    'coins', round(t.amount / 60.0, 2))) AS params
          FROM new_transfers t JOIN bank.account a ON a.id = t.credit_account_id
         WHERE t.kind IN ('service_credit', 'gift') AND a.person_id IS NOT NULL
      ) m
     GROUP BY m.template;
    RETURN NULL;
END
$$;
CREATE TRIGGER transfer_messages AFTER INSERT ON bank.transfer
    REFERENCING NEW TABLE AS new_transfers FOR EACH STATEMENT EXECUTE FUNCTION bank.message_transfers();

-- R12, R13: a star level or the 10,000-coin milestone reached.
CREATE FUNCTION bank.message_milestones() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.queue_messages('milestone_reached', array_agg(m.person_id),
                                array_agg(jsonb_build_object('milestone', m.milestone, 'coins', m.earned_minutes / 60)))
      FROM new_milestones m
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER milestone_messages AFTER INSERT ON bank.volunteer_milestone
    REFERENCING NEW TABLE AS new_milestones FOR EACH STATEMENT EXECUTE FUNCTION bank.message_milestones();

-- A message for the supervisors (an insurer unreachable, say): urgent.
CREATE FUNCTION bank.alert_supervisors(template text, params jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO bank.message (template, recipient_kind, params, urgent) VALUES (template, 'supervisors', params, true)
$$;

-- Hands each statement's new messages to the notification worker in one
-- job, which fans them out (notify.dispatch), so that the statement that
-- wrote a hundred of them enqueues one job, not a hundred.
CREATE FUNCTION bank.dispatch_messages() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ids bigint[];
BEGIN
    SELECT array_agg(id ORDER BY id) INTO ids FROM new_messages;
    IF ids IS NOT NULL THEN
        PERFORM jobs.enqueue('notify.dispatch', jsonb_build_object('ids', to_jsonb(ids)), 'notifications');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER message_dispatched AFTER INSERT ON bank.message
    REFERENCING NEW TABLE AS new_messages FOR EACH STATEMENT EXECUTE FUNCTION bank.dispatch_messages();

-- notify.dispatch: one notify.deliver job per message, due when the
-- message is (a reminder later); a message whose job is still unfinished
-- gets no second (the unique key), and a delivery job skips the channels
-- that already delivered, so a retried dispatch sends nothing twice.
CREATE FUNCTION bank.notify_dispatch(ids bigint[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    queued integer;
BEGIN
    INSERT INTO jobs.job (kind, args, queue, run_at, max_attempts, unique_key, state)
    SELECT 'notify.deliver', jsonb_build_object('id', m.id), 'notifications', m.deliver_after, 20, 'deliver:' || m.id,
           CASE WHEN m.deliver_after <= now() THEN 'available' ELSE 'scheduled' END::jobs.job_state
      FROM bank.message m
     WHERE m.id = ANY(ids)
     ORDER BY m.id
    ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL AND state NOT IN ('completed', 'discarded', 'cancelled')
    DO NOTHING;
    GET DIAGNOSTICS queued = ROW_COUNT;
    IF queued > 0 THEN PERFORM jobs.wake('notifications'); END IF;
    RETURN queued;
END
$$;

-- What the notification worker needs to send one message: the message,
-- whom to reach and how, the channels that already delivered it or
-- refused it for good since an operator last retried it, and whether it is still due (a reminder whose
-- service is no longer booked is not).
CREATE FUNCTION bank.message_to_send(message_id bigint)
RETURNS TABLE (id bigint, template text, recipient_kind text, person_id bigint, agent_institution_id bigint,
               params jsonb, urgent boolean, created_at timestamptz, phone text, still_due boolean,
               settled_channels text[])
LANGUAGE sql STABLE AS $$
    SELECT m.id, m.template, m.recipient_kind, m.person_id, m.agent_institution_id, m.params, m.urgent, m.created_at,
           CASE WHEN m.recipient_kind = 'person' THEN p.phone END,
           m.service_id IS NULL OR EXISTS (SELECT 1 FROM bank.service s WHERE s.id = m.service_id AND s.status = 'booked'),
           ARRAY(SELECT DISTINCT a.channel FROM bank.delivery_attempt a
                  WHERE a.message_id = m.id
                    AND (a.outcome IN ('delivered', 'obsolete')
                         OR a.outcome = 'failed' AND a.started_at > coalesce(m.retried_at, '-infinity'))
                  ORDER BY 1)
      FROM bank.message m LEFT JOIN bank.person p ON p.id = m.person_id
     WHERE m.id = message_to_send.message_id
$$;

-- Records one attempt; a second success on the same channel is dropped
-- (delivery_attempt_delivered_once).
CREATE FUNCTION bank.record_delivery_attempt(message_id bigint, channel text, started_at timestamptz, latency_ms integer,
                                             http_status integer, outcome text, answer text, worker text)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO bank.delivery_attempt (message_id, channel, started_at, latency_ms, http_status, outcome, answer, worker)
    VALUES (message_id, channel, started_at, latency_ms, http_status, outcome, left(answer, 500), worker)
    ON CONFLICT (message_id, channel) WHERE outcome = 'delivered' DO NOTHING
$$;

-- The notification worker's role: reads the outbox and whom to reach,
-- records attempts, fans out its own jobs.
GRANT EXECUTE ON FUNCTION bank.notify_dispatch(bigint[]), bank.message_to_send(bigint),
    bank.record_delivery_attempt(bigint, text, timestamptz, integer, integer, text, text, text)
    TO timebank_notification;
GRANT SELECT ON bank.message TO timebank_notification;
GRANT SELECT, INSERT ON bank.delivery_attempt TO timebank_notification;
GRANT SELECT (id, phone, agent_institution_id) ON bank.person TO timebank_notification;
GRANT SELECT (id, status) ON bank.service TO timebank_notification;
GRANT EXECUTE ON FUNCTION jobs.wake(text) TO timebank_notification;

-- An operator sends a message again (`timebank deliveries retry`): the
-- channels that refused it or ran out of attempts are tried afresh; those
-- that delivered it are not. Returns the new job's id.
CREATE FUNCTION bank.retry_message(message_id bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    UPDATE bank.message m SET retried_at = clock_timestamp() WHERE m.id = message_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no message %', message_id USING ERRCODE = 'invalid_parameter_value', COLUMN = 'message_id';
    END IF;
    RETURN jobs.enqueue('notify.deliver', jsonb_build_object('id', message_id), 'notifications', unique_key => 'deliver:' || message_id);
END
$$;
