-- The notification outbox (sql/migrations/0014_notifications.sql):
-- messages written by triggers on the tables events change, in the
-- event's own transaction, statement by statement (transition tables);
-- the notification worker's dispatch job fans them out.

-- The messages of a set of events: to each person concerned, or to the
-- agent institution the person registered through (R5).
CREATE OR REPLACE FUNCTION bank.queue_messages(template text, people bigint[], params jsonb[], urgent boolean DEFAULT false,
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

-- A service's changes of state: its demand approved (published) or
-- rejected, its booking (to the elder: service_booked; to the volunteer:
-- booking_confirmed, and a reminder to the volunteer before it starts), its demand expired (the
-- hold is released).
CREATE OR REPLACE FUNCTION bank.message_service_events() RETURNS trigger
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
               s.starts_at - bank.setting('reminder_minutes_before_service') * interval '1 minute' - bank.clock_offset(),
               jsonb_build_object('service_id', s.id, 'starts_at', bank.local_time_text(s.starts_at))
          FROM new_events e JOIN bank.service s ON s.id = e.service_id
         WHERE e.status = 'booked'
      ) m
     GROUP BY m.template;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER service_event_messages AFTER INSERT ON bank.service_event
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION bank.message_service_events();

-- Coins credited after a check-out (R6), and coins received as a gift (R8).
CREATE OR REPLACE FUNCTION bank.message_transfers() RETURNS trigger
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
CREATE OR REPLACE TRIGGER transfer_messages AFTER INSERT ON bank.transfer
    REFERENCING NEW TABLE AS new_transfers FOR EACH STATEMENT EXECUTE FUNCTION bank.message_transfers();

-- R12, R13: a star level or the 10,000-coin milestone reached.
CREATE OR REPLACE FUNCTION bank.message_milestones() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.queue_messages('milestone_reached', array_agg(m.person_id),
                                array_agg(jsonb_build_object('milestone', m.milestone, 'coins', m.earned_minutes / 60)))
      FROM new_milestones m
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER milestone_messages AFTER INSERT ON bank.volunteer_milestone
    REFERENCING NEW TABLE AS new_milestones FOR EACH STATEMENT EXECUTE FUNCTION bank.message_milestones();

-- A message for the supervisors (an insurer unreachable, say): urgent.
CREATE OR REPLACE FUNCTION bank.alert_supervisors(template text, params jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO bank.message (template, recipient_kind, params, urgent) VALUES (template, 'supervisors', params, true)
$$;

-- Hands each statement's new messages to the notification worker in one
-- job, which fans them out (notify.dispatch), so that the statement that
-- wrote a hundred of them enqueues one job, not a hundred.
CREATE OR REPLACE FUNCTION bank.dispatch_messages() RETURNS trigger
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
CREATE OR REPLACE TRIGGER message_dispatched AFTER INSERT ON bank.message
    REFERENCING NEW TABLE AS new_messages FOR EACH STATEMENT EXECUTE FUNCTION bank.dispatch_messages();

-- notify.dispatch: one notify.deliver job per message, due when the
-- message is (a reminder later); a message whose job is still unfinished
-- gets no second (the unique key), and a delivery job skips the channels
-- that already delivered, so a retried dispatch sends nothing twice.
-- Each carries the limit key channel:<recipient kind>: the worker routes
-- each kind of recipient to its channels (ChannelConfiguration.routes:
-- persons to the SMS gateway, institutions to their desk), so a rule on
-- channel:person in the notifications queue limits what the SMS gateway
-- is sent, and holds back no other kind's messages.
CREATE OR REPLACE FUNCTION bank.notify_dispatch(ids bigint[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    queued integer;
BEGIN
    INSERT INTO jobs.job (kind, args, queue, run_at, max_attempts, unique_key, limit_key, state)
    SELECT 'notify.deliver', jsonb_build_object('id', m.id), 'notifications', m.deliver_after, 20, 'deliver:' || m.id,
           'channel:' || m.recipient_kind,
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

CREATE OR REPLACE FUNCTION bank.message_claim_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.queue_messages('claim_status', array_agg(c.volunteer_id),
                                array_agg(jsonb_strip_nulls(jsonb_build_object('claim_id', c.id, 'state', e.state, 'amount', e.amount))),
                                true)
      FROM new_events e JOIN bank.accident_claim c ON c.id = e.claim_id
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER claim_event_messages AFTER INSERT ON bank.claim_event
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION bank.message_claim_events();
