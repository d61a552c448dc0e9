-- bank: the monthly partitions of the append-only history (the design is
-- in sql/migrations/0034): each month's partition created months ahead,
-- rows that landed in the DEFAULT partition moved into their month's, and
-- the months past a table's retention dropped. Run daily by the settlement
-- worker's partitions.maintain job, and by `timebank partitions --maintain`.

-- The instant a month (Beijing time) starts, for the month holding `at`
-- moved by `months`.
CREATE OR REPLACE FUNCTION bank.month_start(at timestamptz, months integer DEFAULT 0) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (date_trunc('month', at AT TIME ZONE 'Asia/Shanghai') + months * interval '1 month') AT TIME ZONE 'Asia/Shanghai';

-- The partitions of the registered tables: their bounds (NULL below for
-- the history, both NULL for the DEFAULT partition) and their size.
CREATE OR REPLACE FUNCTION bank.monthly_partitions()
RETURNS TABLE (table_name text, partition_name text, from_time timestamptz, to_time timestamptz, is_default boolean, estimated_rows bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.table_name, c.oid::regclass::text,
           (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\)'))[1]::timestamptz,
           (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz,
           pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT',
           greatest(c.reltuples, 0)::bigint
      FROM bank.monthly_partitioned_table t
      JOIN pg_inherits i ON i.inhparent = t.table_name::regclass
      JOIN pg_class c ON c.oid = i.inhrelid
     ORDER BY t.table_name, 5, 3 NULLS FIRST
$$;

-- The registered tables in the order their rows may leave a partition:
-- those that other tables' foreign keys reference last (the outbox after
-- its delivery attempts).
CREATE OR REPLACE FUNCTION bank.monthly_partitioned_tables_referencing_first()
RETURNS SETOF bank.monthly_partitioned_table
LANGUAGE sql STABLE AS $$
    SELECT r.* FROM bank.monthly_partitioned_table r
     ORDER BY (SELECT count(*) FROM pg_constraint c
                WHERE c.contype = 'f' AND c.confrelid = r.table_name::regclass AND c.conrelid <> c.confrelid AND c.conparentid = 0),
              r.table_name
$$;

-- Creates each registered table's missing partitions up to months_ahead
-- after the month of `at` (moving into a new one the rows of its month that
-- the DEFAULT partition took meanwhile), and drops whole months older than
-- retain_months before the month of `at`. Returns what it did, a row per
-- partition created or dropped. Idempotent: a second run the same day
-- does nothing. Each new partition is made as a table of its own and then
-- attached, which locks the partitioned table only against other changes
-- of its partitions (SHARE UPDATE EXCLUSIVE), not against inserts and
-- reads; lock_timeout bounds any wait, and a run that gave up is tried
-- again (it is a job).
--
-- Rows moved out of a DEFAULT partition: a foreign key into a partitioned
-- table is checked partition by partition, so a referenced row (a message)
-- may leave its partition only while no row references it. Hence two
-- passes: every new table made and filled, the referencing tables' first
-- (a month's attempts leave the DEFAULT partition before their messages);
-- then every one attached, the referenced tables' first (the messages'
-- month is there when their attempts' month is checked against it).
CREATE OR REPLACE FUNCTION bank.maintain_monthly_partitions(at timestamptz DEFAULT now())
RETURNS TABLE (table_name text, partition_name text, action text, moved_rows bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t bank.monthly_partitioned_table;
    p record;
    month_from timestamptz;
    month_to timestamptz;
    name text;
    moved bigint;
    made_tables text[] := '{}';
    made_names text[] := '{}';
    made_from timestamptz[] := '{}';
    made_to timestamptz[] := '{}';
    made_moved bigint[] := '{}';
BEGIN
    SET LOCAL lock_timeout = '5s';
    IF at IS NULL THEN
        PERFORM bank.refuse('at', 'partitions', 'the moment to maintain the partitions for is required');
    END IF;
    FOR t IN SELECT * FROM bank.monthly_partitioned_tables_referencing_first() LOOP
        -- Every month missing from monthly_from (before it, the history partition holds every
        -- time) or the first month kept, whichever is later, to months_ahead after `at`.
        -- (greatest skips NULL: with no retention, from monthly_from.)
        month_from := greatest(t.monthly_from, bank.month_start(at, -t.retain_months));
        WHILE month_from < bank.month_start(at, t.months_ahead + 1) LOOP
            month_to := bank.month_start(month_from, 1);
            name := t.table_name || to_char(month_from AT TIME ZONE 'Asia/Shanghai', '"_y"YYYY"m"MM');
            IF to_regclass(name) IS NULL THEN
                EXECUTE format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name, t.table_name);
                -- Rows of this month that found no partition: into it (the DEFAULT partition
                -- must hold none of the new partition's range when it is attached).
                EXECUTE format('WITH gone AS (DELETE FROM %s WHERE %I >= $1 AND %I < $2 RETURNING *) INSERT INTO %s SELECT * FROM gone',
                               t.table_name || '_unplanned', t.key_column, t.key_column, name)
                    USING month_from, month_to;
                GET DIAGNOSTICS moved = ROW_COUNT;
                made_tables := made_tables || t.table_name; made_names := made_names || name;
                made_from := made_from || month_from; made_to := made_to || month_to; made_moved := made_moved || moved;
            END IF;
            month_from := month_to;
        END LOOP;
    END LOOP;
    FOR i IN REVERSE coalesce(array_length(made_names, 1), 0)..1 LOOP
        EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', made_tables[i], made_names[i], made_from[i], made_to[i]);
        EXECUTE format('COMMENT ON TABLE %s IS %L', made_names[i],
                       format('%s of the month from %s to %s (Beijing time).', made_tables[i], made_from[i], made_to[i]));
        table_name := made_tables[i]; partition_name := made_names[i]; action := 'created'; moved_rows := made_moved[i];
        RETURN NEXT;
    END LOOP;
    -- Expired months, referencing tables first (a month of delivery attempts before its
    -- month of messages); the DEFAULT partition is never dropped.
    FOR t IN SELECT * FROM bank.monthly_partitioned_tables_referencing_first() r WHERE r.retain_months IS NOT NULL LOOP
        FOR p IN SELECT * FROM bank.monthly_partitions() mp
                  WHERE mp.table_name = t.table_name AND NOT mp.is_default
                    AND mp.to_time <= bank.month_start(at, -t.retain_months) LOOP
            EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', t.table_name, p.partition_name);
            EXECUTE format('DROP TABLE %s', p.partition_name);
            table_name := t.table_name; partition_name := p.partition_name; action := 'dropped'; moved_rows := NULL;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;

-- Moves the start of monthly partitions back to the month of `since`, on
-- tables whose history partition is still empty: a new city's database,
-- or one filled from an older system's records (city-bench's generator),
-- gets its past months as partitions of their own instead of one history.
-- The history partition is re-attached for the times before that month;
-- bank.maintain_monthly_partitions then creates the months since. Returns
-- the tables moved. The owner's alone (no application role executes it).
CREATE OR REPLACE FUNCTION bank.start_monthly_partitions_at(since timestamptz)
RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t bank.monthly_partitioned_table;
    history text;
    empty boolean;
BEGIN
    IF since IS NULL THEN
        PERFORM bank.refuse('since', 'partitions', 'the first month to partition is required');
    END IF;
    FOR t IN SELECT * FROM bank.monthly_partitioned_table WHERE monthly_from > bank.month_start(since) ORDER BY 1 LOOP
        history := t.table_name || '_history';
        EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %s)', history) INTO empty;
        CONTINUE WHEN NOT empty;
        EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', t.table_name, history);
        EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (MINVALUE) TO (%L)', t.table_name, history, bank.month_start(since));
        UPDATE bank.monthly_partitioned_table r SET monthly_from = bank.month_start(since) WHERE r.table_name = t.table_name;
        RETURN NEXT t.table_name;
    END LOOP;
END
$$;
