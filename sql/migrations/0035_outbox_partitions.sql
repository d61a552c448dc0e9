-- 0035 (issue 18, item 4): the outbox and its delivery attempts in monthly
-- partitions (as 0034 did for the service events, and the same way: the
-- table as it stands attached as its history partition, a month per
-- partition from next month on, a DEFAULT partition), and kept for a
-- limited time: an old month of messages and their attempts is dropped
-- whole, not deleted row by row.
--
-- A message's attempts are partitioned by the message's month, not their
-- own: all of a message's attempts are in the partition of its month, so
--   - "delivered at most once per channel" stays a unique index (it must
--     include the month, and the message's month is fixed by the message),
--   - an attempt names its message by (id, month) (a foreign key into the
--     partitioned outbox), and
--   - a month of messages and its attempts are dropped together.
-- An attempt carries its message's created_at for that (message_created_at).
--
-- Kept: 13 whole months before the current one (a year of deliveries for
-- the operators' reports, and the month under way), set per table in
-- bank.monthly_partitioned_table.retain_months. The record of a phone
-- number released for a message (R23, bank.personal_data_read) outlives the
-- message: its message_id stays, without a foreign key.

ALTER TABLE bank.personal_data_read DROP CONSTRAINT personal_data_read_message_id_fkey;
COMMENT ON COLUMN bank.personal_data_read.message_id IS 'The message whose delivery needed the phone number (the notification worker), or NULL for a staff member''s read. The outbox keeps messages for bank.monthly_partitioned_table.retain_months; this record is kept longer, so this is not a foreign key.';
ALTER TABLE bank.delivery_attempt DROP CONSTRAINT delivery_attempt_message_id_fkey;

-- The message's month on each attempt, from its message.
ALTER TABLE bank.delivery_attempt ADD COLUMN message_created_at timestamptz;
UPDATE bank.delivery_attempt a SET message_created_at = m.created_at FROM bank.message m WHERE m.id = a.message_id;
ALTER TABLE bank.delivery_attempt ALTER COLUMN message_created_at SET NOT NULL;

-- bank.message, partitioned by created_at.
ALTER TABLE bank.message RENAME TO message_history;
CREATE TABLE bank.message (LIKE bank.message_history INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)
    PARTITION BY RANGE (created_at);
ALTER TABLE bank.message_history DROP CONSTRAINT message_pkey;
ALTER TABLE bank.message_history ALTER COLUMN id DROP IDENTITY;
DROP TRIGGER IF EXISTS message_dispatched ON bank.message_history;
ALTER INDEX bank.message_person_idx RENAME TO message_history_person_idx;
-- Unique by id; with the month's column, as a partitioned table's keys must be (a constraint, which attaching adopts).
ALTER TABLE bank.message_history ADD CONSTRAINT message_history_pkey PRIMARY KEY (id, created_at);
ALTER TABLE bank.message ADD CONSTRAINT message_pkey PRIMARY KEY (id, created_at);
ALTER TABLE bank.message ADD CONSTRAINT message_person_id_fkey FOREIGN KEY (person_id) REFERENCES bank.person;
ALTER TABLE bank.message ADD CONSTRAINT message_agent_institution_id_fkey FOREIGN KEY (agent_institution_id) REFERENCES bank.agent_institution;
ALTER TABLE bank.message ADD CONSTRAINT message_service_id_fkey FOREIGN KEY (service_id) REFERENCES bank.service;
CREATE INDEX message_person_idx ON bank.message (person_id) WHERE person_id IS NOT NULL;
COMMENT ON TABLE bank.message IS 'The outbox: one row per message an event owes a person, an agent institution (R5) or the supervisors; written in the event''s transaction, sent by the notification worker. Partitioned by month of created_at, kept for retain_months (bank.monthly_partitioned_table). 通知发件箱';
CREATE TABLE bank.message_unplanned PARTITION OF bank.message DEFAULT;
COMMENT ON TABLE bank.message_unplanned IS 'Messages whose month has no partition yet; moved into it when bank.maintain_monthly_partitions creates it. Normally empty.';
GRANT SELECT ON bank.message TO timebank_notification;

-- bank.delivery_attempt, partitioned by its message's created_at.
ALTER TABLE bank.delivery_attempt RENAME TO delivery_attempt_history;
CREATE TABLE bank.delivery_attempt (LIKE bank.delivery_attempt_history INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)
    PARTITION BY RANGE (message_created_at);
ALTER TABLE bank.delivery_attempt_history DROP CONSTRAINT delivery_attempt_pkey;
ALTER TABLE bank.delivery_attempt_history ALTER COLUMN id DROP IDENTITY;
DROP INDEX bank.delivery_attempt_delivered_once;
ALTER INDEX bank.delivery_attempt_message_idx RENAME TO delivery_attempt_history_message_idx;
ALTER TABLE bank.delivery_attempt_history ADD CONSTRAINT delivery_attempt_history_pkey PRIMARY KEY (id, message_created_at);
ALTER TABLE bank.delivery_attempt ADD CONSTRAINT delivery_attempt_pkey PRIMARY KEY (id, message_created_at);
-- The message it was for, in the message's month.
ALTER TABLE bank.delivery_attempt ADD CONSTRAINT delivery_attempt_message_fkey
    FOREIGN KEY (message_id, message_created_at) REFERENCES bank.message (id, created_at);
CREATE INDEX delivery_attempt_message_idx ON bank.delivery_attempt (message_id, channel);
-- At most one successful delivery per message and channel (0014's reason:
-- a worker that died between sending and recording sends again with the
-- same idempotency key, and records the second success at most once). The
-- message's month is part of the key, and fixed by the message.
CREATE UNIQUE INDEX delivery_attempt_delivered_once ON bank.delivery_attempt (message_id, channel, message_created_at)
    WHERE outcome = 'delivered';
COMMENT ON TABLE bank.delivery_attempt IS 'Every attempt to deliver a message on a channel: time, latency, status, outcome, answer. Partitioned by its message''s month (message_created_at), kept as long as the message. 通知投递记录';
COMMENT ON COLUMN bank.delivery_attempt.message_created_at IS 'The message''s created_at: its month places the attempt in the message''s partition.';
CREATE TABLE bank.delivery_attempt_unplanned PARTITION OF bank.delivery_attempt DEFAULT;
COMMENT ON TABLE bank.delivery_attempt_unplanned IS 'Delivery attempts whose message''s month has no partition yet; moved with it. Normally empty.';
GRANT SELECT ON bank.delivery_attempt TO timebank_notification;

DO $$
DECLARE
    first_month timestamptz := (SELECT monthly_from FROM bank.monthly_partitioned_table WHERE table_name = 'bank.service_event');
BEGIN
    -- From the month 0034 started the service events' months (the same, unless 0034 ran in an earlier month).
    first_month := greatest(first_month, (date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') + interval '1 month') AT TIME ZONE 'Asia/Shanghai');
    EXECUTE format('ALTER TABLE bank.message ATTACH PARTITION bank.message_history FOR VALUES FROM (MINVALUE) TO (%L)', first_month);
    EXECUTE format('ALTER TABLE bank.delivery_attempt ATTACH PARTITION bank.delivery_attempt_history FOR VALUES FROM (MINVALUE) TO (%L)',
                   first_month);
    PERFORM setval(pg_get_serial_sequence('bank.message', 'id'), coalesce((SELECT max(id) FROM bank.message_history), 0) + 1, false);
    PERFORM setval(pg_get_serial_sequence('bank.delivery_attempt', 'id'),
                   coalesce((SELECT max(id) FROM bank.delivery_attempt_history), 0) + 1, false);
    INSERT INTO bank.monthly_partitioned_table (table_name, key_column, monthly_from, retain_months) VALUES
        ('bank.message', 'created_at', first_month, 13),
        ('bank.delivery_attempt', 'message_created_at', first_month, 13);
END
$$;
COMMENT ON TABLE bank.message_history IS 'Messages from before the outbox was partitioned by month (migration 0035): every time before monthly_from.';
COMMENT ON TABLE bank.delivery_attempt_history IS 'Delivery attempts of the messages in bank.message_history (migration 0035).';
