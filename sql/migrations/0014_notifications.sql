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
GRANT SELECT ON bank.message TO timebank_notification;
GRANT SELECT, INSERT ON bank.delivery_attempt TO timebank_notification;
GRANT SELECT (id, phone, agent_institution_id) ON bank.person TO timebank_notification;
GRANT SELECT (id, status) ON bank.service TO timebank_notification;