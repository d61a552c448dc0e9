-- notification-worker (timebank_notification): what to send for a
-- message, and every attempt recorded; an operator may retry a message.

-- Records one attempt; a second success on the same channel is dropped
-- (delivery_attempt_delivered_once).
CREATE OR REPLACE FUNCTION bank.record_delivery_attempt(message_id bigint, channel text, started_at timestamptz, latency_ms integer,
                                             http_status integer, outcome text, answer text, worker text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    -- In its message's month (0035): an unknown message leaves it NULL, which is refused.
    INSERT INTO bank.delivery_attempt (message_id, message_created_at, channel, started_at, latency_ms, http_status, outcome, answer, worker)
    VALUES (message_id, (SELECT m.created_at FROM bank.message m WHERE m.id = record_delivery_attempt.message_id),
            channel, started_at, latency_ms, http_status, outcome, left(answer, 500), worker)
    ON CONFLICT (message_id, channel, message_created_at) WHERE outcome = 'delivered' DO NOTHING
$$;

-- An operator sends a message again (`timebank deliveries retry`): the
-- channels that refused it or ran out of attempts are tried afresh; those
-- that delivered it are not. Returns the new job's id.
CREATE OR REPLACE FUNCTION bank.retry_message(message_id bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    UPDATE bank.message m SET retried_at = clock_timestamp() WHERE m.id = message_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no message %', message_id USING ERRCODE = 'invalid_parameter_value', COLUMN = 'message_id';
    END IF;
    RETURN jobs.enqueue('notify.deliver', jsonb_build_object('id', message_id), 'notifications', unique_key => 'deliver:' || message_id,
                        limit_key => (SELECT 'channel:' || m.recipient_kind FROM bank.message m WHERE m.id = message_id));
END
$$;

-- R23: releases the phone number of a message's recipient to the
-- notification worker, for a channel that sends it (an SMS gateway): the
-- release is recorded in bank.personal_data_read, once per message, and
-- the worker commits it before bank.message_to_send shows the number (so
-- no rollback erases a decryption). False when there is no number to release.
CREATE OR REPLACE FUNCTION bank.release_phone(message_id bigint) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH recipient AS (
        SELECT m.id, m.person_id FROM bank.message m JOIN bank.person p ON p.id = m.person_id
         WHERE m.id = release_phone.message_id AND m.recipient_kind = 'person' AND p.phone_encrypted IS NOT NULL
    ), released AS (
        INSERT INTO bank.personal_data_read (person_id, staff, purpose, message_id)
        SELECT r.person_id, 'notification-worker', 'the phone number for message ' || r.id, r.id FROM recipient r
        ON CONFLICT (message_id) WHERE message_id IS NOT NULL DO NOTHING
    )
    SELECT EXISTS (SELECT 1 FROM recipient)
$$;

-- What the notification worker needs to send one message: the message,
-- whom to reach and how, the channels that already delivered it or
-- refused it for good since an operator last retried it, and whether it
-- is still due (a reminder whose service is no longer booked is not). The
-- person's number is decrypted here, at send time, and only once an
-- earlier transaction committed its release (bank.release_phone).
CREATE OR REPLACE FUNCTION bank.message_to_send(message_id bigint)
RETURNS TABLE (id bigint, template text, recipient_kind text, person_id bigint, agent_institution_id bigint,
               params jsonb, urgent boolean, created_at timestamptz, phone text, still_due boolean,
               settled_channels text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT m.id, m.template, m.recipient_kind, m.person_id, m.agent_institution_id, m.params, m.urgent, m.created_at,
           CASE WHEN m.recipient_kind = 'person' AND p.phone_encrypted IS NOT NULL
                     AND EXISTS (SELECT 1 FROM bank.personal_data_read r WHERE r.message_id = m.id AND r.read_at < now())
                THEN bank.personal_data_decrypt(p.phone_encrypted) END,
           m.service_id IS NULL OR EXISTS (SELECT 1 FROM bank.service s WHERE s.id = m.service_id AND s.status = 'booked'),
           ARRAY(SELECT DISTINCT a.channel FROM bank.delivery_attempt a
                  WHERE a.message_id = m.id AND a.message_created_at = m.created_at
                    AND (a.outcome IN ('delivered', 'obsolete')
                         OR a.outcome = 'failed' AND a.started_at > coalesce(m.retried_at, '-infinity'))
                  ORDER BY 1)
      FROM bank.message m LEFT JOIN bank.person p ON p.id = m.person_id
     WHERE m.id = message_to_send.message_id
$$;
