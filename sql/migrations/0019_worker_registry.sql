-- 0019: the worker registry (issue 9): every worker process registers
-- itself when it starts and heartbeats while it runs; one that stops
-- heartbeating is marked gone by any other worker's maintenance (its jobs
-- are rescued as before, when their leases expire). `timebank workers`
-- lists the instances, live and recently gone.

CREATE TABLE jobs.worker_instance (
    -- The instance id, as in jobs.job.held_by: kind@host:pid:random.
    id             text PRIMARY KEY,
    -- The worker's kind: settlement-worker, test-worker...
    kind           text NOT NULL,
    host           text NOT NULL,
    pid            integer NOT NULL,
    version        text NOT NULL,
    queues         text[] NOT NULL,
    concurrency    integer NOT NULL CONSTRAINT worker_concurrency_positive CHECK (concurrency > 0),
    started_at     timestamptz NOT NULL DEFAULT now(),
    heartbeat_at   timestamptz NOT NULL DEFAULT now(),
    -- Jobs it finished, and those that failed an attempt, since it started (at its last heartbeat).
    jobs_done      bigint NOT NULL DEFAULT 0,
    jobs_failed    bigint NOT NULL DEFAULT 0,
    -- It stopped gracefully (SIGTERM).
    stopped_at     timestamptz,
    -- It stopped heartbeating: marked by another worker.
    gone_at        timestamptz,
    CONSTRAINT worker_ends_once CHECK (stopped_at IS NULL OR gone_at IS NULL)
);
COMMENT ON TABLE jobs.worker_instance IS 'Every worker process: what it runs, its heartbeat, and how it ended (stopped, or gone silent). 工作进程登记';
CREATE INDEX worker_instance_live_idx ON jobs.worker_instance (heartbeat_at) WHERE stopped_at IS NULL AND gone_at IS NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON jobs.worker_instance
    TO timebank_enrollment, timebank_order, timebank_settlement, timebank_notification, timebank_insurance_claim;