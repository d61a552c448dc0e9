-- jobs: enqueueing work and waking the workers of a queue (NOTIFY only to
-- wake: see the README's measurements; the payload is empty). Claiming,
-- completing and rescuing are in engine.sql.
--
-- Two ways in (issue 15, finding 1):
-- * jobs.enqueue and jobs.enqueue_many are the owner's: the SQL steps and
--   the api, all SECURITY DEFINER, call them for the follow-up jobs their
--   code decides (the order worker's check-out enqueues settlement.settle
--   for that service, the api a grant for the request it just recorded).
--   No application role executes them, so no login enqueues a job its
--   code would not.
-- * jobs.enqueue_own and jobs.enqueue_many_own are for a worker's own
--   Swift code (periodic jobs, the next day's export): they enqueue only
--   into a queue the session's login works (jobs.session_queues).

-- The NOTIFY channel of a queue.
CREATE OR REPLACE FUNCTION jobs.channel(queue text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 'jobs_' || queue;

-- Wakes the queue's idle workers, if it has any, at commit.
CREATE OR REPLACE FUNCTION jobs.wake(queue text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM jobs.idle_worker w WHERE w.queue = wake.queue) THEN
        PERFORM pg_notify(jobs.channel(wake.queue), '');
    END IF;
END
$$;

-- Enqueues one job in the caller's transaction; returns its id. With a
-- unique_key, a second unfinished job of the same kind and key is not
-- created: the first one's id is returned (on_duplicate = 'skip') or the
-- call fails with unique_violation (on_duplicate = 'error'). A limit_key
-- puts the job under its queue's rule for that key (jobs.limit_rule).
CREATE OR REPLACE FUNCTION jobs.enqueue(
    kind text,
    args jsonb DEFAULT '{}',
    queue text DEFAULT 'default',
    priority smallint DEFAULT 0,
    run_at timestamptz DEFAULT NULL,
    max_attempts integer DEFAULT 20,
    unique_key text DEFAULT NULL,
    on_duplicate text DEFAULT 'skip',
    limit_key text DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    new_id bigint;
    due boolean := enqueue.run_at IS NULL OR enqueue.run_at <= now();
BEGIN
    IF on_duplicate NOT IN ('skip', 'error') THEN
        RAISE EXCEPTION 'on_duplicate must be skip or error, not %', on_duplicate USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO jobs.job (kind, args, queue, priority, run_at, max_attempts, unique_key, limit_key, state)
    VALUES (enqueue.kind, coalesce(enqueue.args, '{}'), enqueue.queue, enqueue.priority,
            coalesce(enqueue.run_at, now()), enqueue.max_attempts, enqueue.unique_key, enqueue.limit_key,
            CASE WHEN due THEN 'available' ELSE 'scheduled' END::jobs.job_state)
    ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL AND state NOT IN ('completed', 'discarded', 'cancelled')
    DO NOTHING
    RETURNING id INTO new_id;
    IF new_id IS NULL THEN
        IF on_duplicate = 'error' THEN
            RAISE EXCEPTION 'a % job with unique key % is already queued', enqueue.kind, enqueue.unique_key
                USING ERRCODE = 'unique_violation';
        END IF;
        SELECT j.id INTO new_id FROM jobs.job j
        WHERE j.kind = enqueue.kind AND j.unique_key = enqueue.unique_key
          AND j.state NOT IN ('completed', 'discarded', 'cancelled');
        RETURN new_id;
    END IF;
    IF due THEN PERFORM jobs.wake(enqueue.queue); END IF;
    RETURN new_id;
END
$$;

-- Enqueues many jobs of one kind in one statement (one per element of
-- args), all under one limit_key if any; returns their ids in order. At
-- most one NOTIFY.
CREATE OR REPLACE FUNCTION jobs.enqueue_many(
    kind text,
    args jsonb[],
    queue text DEFAULT 'default',
    priority smallint DEFAULT 0,
    run_at timestamptz DEFAULT NULL,
    max_attempts integer DEFAULT 20,
    limit_key text DEFAULT NULL
) RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    due boolean := enqueue_many.run_at IS NULL OR enqueue_many.run_at <= now();
BEGIN
    RETURN QUERY
    INSERT INTO jobs.job (kind, args, queue, priority, run_at, max_attempts, limit_key, state)
    SELECT enqueue_many.kind, a.value, enqueue_many.queue, enqueue_many.priority,
           coalesce(enqueue_many.run_at, now()), enqueue_many.max_attempts, enqueue_many.limit_key,
           CASE WHEN due THEN 'available' ELSE 'scheduled' END::jobs.job_state
    FROM unnest(enqueue_many.args) WITH ORDINALITY AS a(value, position)
    ORDER BY a.position
    RETURNING id;
    IF due THEN PERFORM jobs.wake(enqueue_many.queue); END IF;
END
$$;

-- A worker's enqueue into its own queue: jobs.enqueue, for a session that
-- works `queue` (refused with insufficient_privilege otherwise).
CREATE OR REPLACE FUNCTION jobs.enqueue_own(
    kind text,
    args jsonb DEFAULT '{}',
    queue text DEFAULT 'default',
    priority smallint DEFAULT 0,
    run_at timestamptz DEFAULT NULL,
    max_attempts integer DEFAULT 20,
    unique_key text DEFAULT NULL,
    on_duplicate text DEFAULT 'skip',
    limit_key text DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM jobs.check_queue(enqueue_own.queue);
    RETURN jobs.enqueue(enqueue_own.kind, enqueue_own.args, enqueue_own.queue, enqueue_own.priority, enqueue_own.run_at,
                        enqueue_own.max_attempts, enqueue_own.unique_key, enqueue_own.on_duplicate,
                        enqueue_own.limit_key);
END
$$;

-- jobs.enqueue_many, for a session that works `queue`.
CREATE OR REPLACE FUNCTION jobs.enqueue_many_own(
    kind text,
    args jsonb[],
    queue text DEFAULT 'default',
    priority smallint DEFAULT 0,
    run_at timestamptz DEFAULT NULL,
    max_attempts integer DEFAULT 20,
    limit_key text DEFAULT NULL
) RETURNS SETOF bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM jobs.check_queue(enqueue_many_own.queue);
    RETURN QUERY SELECT jobs.enqueue_many(enqueue_many_own.kind, enqueue_many_own.args, enqueue_many_own.queue,
                                          enqueue_many_own.priority, enqueue_many_own.run_at, enqueue_many_own.max_attempts,
                                          enqueue_many_own.limit_key);
END
$$;
