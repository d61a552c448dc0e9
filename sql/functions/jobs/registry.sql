-- jobs: the worker registry's statements (table: sql/migrations/0019;
-- Sources/JobEngine/WorkerRegistry.swift calls them): register at start,
-- heartbeat, mark the silent gone, record a graceful stop. SECURITY
-- DEFINER so that no worker role writes jobs.worker_instance itself: a
-- worker registers, beats and stops only as a worker of queues its login
-- works (jobs.session_queues), and marks gone only instances that really
-- are silent.

CREATE OR REPLACE FUNCTION jobs.register_worker(id text, kind text, host text, pid integer, version text, queues text[], concurrency integer)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- Refused, naming it, if one of its queues is not the session's.
    PERFORM jobs.check_queue(q) FROM unnest(register_worker.queues) AS q;
    INSERT INTO jobs.worker_instance AS w (id, kind, host, pid, version, queues, concurrency)
    VALUES (register_worker.id, register_worker.kind, register_worker.host, register_worker.pid, register_worker.version,
            register_worker.queues, register_worker.concurrency)
    ON CONFLICT ON CONSTRAINT worker_instance_pkey DO UPDATE SET heartbeat_at = now(), stopped_at = NULL, gone_at = NULL
     WHERE w.queues = register_worker.queues;
END
$$;

-- A beat (a worker marked gone during an outage that comes back is live again).
CREATE OR REPLACE FUNCTION jobs.worker_heartbeat(id text, done bigint, failed bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    UPDATE jobs.worker_instance w SET heartbeat_at = now(), jobs_done = done, jobs_failed = failed, gone_at = NULL
     WHERE w.id = worker_heartbeat.id AND coalesce(w.queues <@ jobs.session_queues(), true)  -- NULL: every queue
$$;

-- Marks gone every live worker silent longer than `silent_for`; their ids.
CREATE OR REPLACE FUNCTION jobs.mark_silent_workers_gone(silent_for interval) RETURNS SETOF text
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    UPDATE jobs.worker_instance SET gone_at = now()
     WHERE stopped_at IS NULL AND gone_at IS NULL AND heartbeat_at < now() - silent_for
    RETURNING id
$$;

-- A graceful stop (SIGTERM), with the final counts.
CREATE OR REPLACE FUNCTION jobs.worker_stopped(id text, done bigint, failed bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    UPDATE jobs.worker_instance w SET stopped_at = now(), heartbeat_at = now(), jobs_done = done, jobs_failed = failed
     WHERE w.id = worker_stopped.id AND coalesce(w.queues <@ jobs.session_queues(), true)  -- NULL: every queue
$$;
