-- 0034 (issue 18, item 4): the append-only history in monthly partitions,
-- so that what a day costs does not grow with the years behind it: a
-- month's rows are one table (its indexes the size of a month, vacuumed
-- and frozen once, then left alone), and retention drops a month whole
-- instead of deleting its rows one by one. Declarative partitioning by
-- range of the row's time, months of Beijing time; our own small
-- maintenance (sql/functions/bank/partitions.sql) rather than pg_partman:
-- it is a superuser's extension with a background worker of its own, for
-- what here is a daily job creating a few months ahead and dropping the
-- expired (the same job on every worker's replicas, under the database's
-- locks).
--
-- First the service events (R5: every state a service entered, about five
-- rows per service, more than its transfers). The ledger, the outbox and
-- delivery attempts follow: their global unique keys (a transfer's
-- idempotency key, a hold resolved once, a message delivered once per
-- channel) cannot be partitioned indexes, which must include the month.
--
-- How a table is converted without copying it: the table as it stands
-- becomes the partition `<table>_history`, for every time before the
-- first month after the migration (attached: one scan to check its rows'
-- times, no rewrite); each month from then on has its own partition,
-- created months ahead by bank.maintain_monthly_partitions; a DEFAULT
-- partition, `<table>_unplanned`, takes a row whose month has no
-- partition yet (the daily job not run for months), so an insert never
-- fails for want of one, and the job moves such rows into their month's
-- partition when it creates it.

-- The tables kept in monthly partitions, and how.
CREATE TABLE bank.monthly_partitioned_table (
    -- A table of schema bank, partitioned BY RANGE on key_column.
    table_name    text PRIMARY KEY CONSTRAINT monthly_partitioned_table_in_bank CHECK (table_name ~ '^bank\.[a-z_]+$'),
    -- The timestamptz column whose month (Beijing time) places a row.
    key_column    text NOT NULL CONSTRAINT monthly_partitioned_key_named CHECK (key_column ~ '^[a-z_]+$'),
    -- The first month with a partition of its own; every row before it
    -- lives in <table>_history.
    monthly_from  timestamptz NOT NULL,
    -- Months created ahead of the current one: an insert never waits for
    -- a partition, and a job that does not run for a while loses nothing.
    months_ahead  integer NOT NULL DEFAULT 3 CONSTRAINT monthly_partitioned_months_ahead CHECK (months_ahead BETWEEN 1 AND 24),
    -- How many whole months are kept before the current one; an older
    -- partition is detached and dropped. NULL keeps every month (R5's
    -- records of who did what, and the ledger, are kept).
    retain_months integer CONSTRAINT monthly_partitioned_retention_positive CHECK (retain_months IS NULL OR retain_months >= 1)
);
COMMENT ON TABLE bank.monthly_partitioned_table IS 'The append-only tables kept in monthly partitions (Beijing months): from which month each has its own partition, how many months are created ahead, how many are kept (NULL: all). Maintained daily by bank.maintain_monthly_partitions. 按月分区的表';

-- bank.service_event, partitioned by its time (at).
ALTER TABLE bank.service_event RENAME TO service_event_history;
ALTER TABLE bank.service_event_history DROP CONSTRAINT service_event_pkey;
ALTER INDEX bank.service_event_service_idx RENAME TO service_event_history_service_idx;
-- A partition takes its id from the partitioned table's identity (set past the history's ids below).
ALTER TABLE bank.service_event_history ALTER COLUMN id DROP IDENTITY;
-- Its triggers are the partitioned table's now (sql/functions re-creates them there).
DROP TRIGGER IF EXISTS service_event_messages ON bank.service_event_history;
DROP TRIGGER IF EXISTS service_event_supervised ON bank.service_event_history;
-- The partitioned table's primary key includes the month's column, as every unique index of a partitioned table must
-- (a constraint, so that attaching adopts it instead of building another).
ALTER TABLE bank.service_event_history ADD CONSTRAINT service_event_history_pkey PRIMARY KEY (id, at);

CREATE TABLE bank.service_event (
    id         bigint GENERATED ALWAYS AS IDENTITY,
    service_id bigint NOT NULL CONSTRAINT service_event_service_id_fkey REFERENCES bank.service,
    status     bank.service_status NOT NULL,
    request_id bigint CONSTRAINT service_event_request_id_fkey REFERENCES bank.request,
    at         timestamptz NOT NULL DEFAULT now(),
    -- Unique by id; the month's column is part of it because a partitioned table's keys must include it.
    CONSTRAINT service_event_pkey PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
COMMENT ON TABLE bank.service_event IS 'R5: every state a service entered, when, and by which request (whose performer the request records). Partitioned by month of at (bank.monthly_partitioned_table). 服务状态记录';
-- A service's events in order (api.service_history).
CREATE INDEX service_event_service_idx ON bank.service_event (service_id, id);
CREATE TABLE bank.service_event_unplanned PARTITION OF bank.service_event DEFAULT;
COMMENT ON TABLE bank.service_event_unplanned IS 'Service events whose month has no partition yet; moved into it when bank.maintain_monthly_partitions creates it. Normally empty.';
GRANT SELECT ON bank.service_event TO timebank_order;

DO $$
DECLARE
    -- The first month after this one (Beijing): the history ends there.
    first_month timestamptz := (date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') + interval '1 month') AT TIME ZONE 'Asia/Shanghai';
BEGIN
    EXECUTE format('ALTER TABLE bank.service_event ATTACH PARTITION bank.service_event_history FOR VALUES FROM (MINVALUE) TO (%L)',
                   first_month);
    PERFORM setval(pg_get_serial_sequence('bank.service_event', 'id'),
                   coalesce((SELECT max(id) FROM bank.service_event_history), 0) + 1, false);
    INSERT INTO bank.monthly_partitioned_table (table_name, key_column, monthly_from) VALUES ('bank.service_event', 'at', first_month);
END
$$;
COMMENT ON TABLE bank.service_event_history IS 'Service events from before their table was partitioned by month (migration 0034): every time before monthly_from.';
