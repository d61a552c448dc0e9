-- 0002: the job engine. Work is rows; claiming is FOR UPDATE SKIP LOCKED;
-- idle workers are woken by NOTIFY, and also poll.
--
-- A job's life (River's states):
--   scheduled --(due)--> available --(claimed)--> running --> completed
--   running --(failed, attempts left)--> retryable --(due)--> available
--   running --(failed, no attempts left)--> discarded
--   running --(snoozed)--> scheduled          (not counted as an attempt)
--   any unfinished --(cancelled)--> cancelled
--   running --(lease expired: worker died)--> retryable or discarded
--
-- Delivery is at least once: a handler may run again after a crash, so
-- handlers are idempotent (they get the job id and attempt for that).

CREATE TYPE jobs.job_state AS ENUM (
    'available', 'scheduled', 'running', 'retryable', 'completed', 'discarded', 'cancelled'
);
COMMENT ON TYPE jobs.job_state IS 'Where a job is in its life; completed, discarded and cancelled are final.';

CREATE TABLE jobs.job (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- What to run: the handler registered under this kind.
    kind             text NOT NULL CONSTRAINT job_kind_named CHECK (kind ~ '^[a-z][a-z0-9_.]{0,99}$'),
    -- Which workers take it; a queue name is part of a NOTIFY channel name.
    queue            text NOT NULL DEFAULT 'default' CONSTRAINT job_queue_named CHECK (queue ~ '^[a-z][a-z0-9_]{0,47}$'),
    -- The handler's arguments: always a JSON object.
    args             jsonb NOT NULL DEFAULT '{}' CONSTRAINT job_args_object CHECK (jsonb_typeof(args) = 'object'),
    state            jobs.job_state NOT NULL DEFAULT 'available',
    -- Lower runs first among the jobs that are due.
    priority         smallint NOT NULL DEFAULT 0 CONSTRAINT job_priority_range CHECK (priority BETWEEN -100 AND 100),
    -- Attempts started so far (a snooze gives its attempt back).
    attempt          integer NOT NULL DEFAULT 0 CONSTRAINT job_attempt_counted CHECK (attempt >= 0 AND attempt <= max_attempts),
    max_attempts     integer NOT NULL DEFAULT 20 CONSTRAINT job_max_attempts_positive CHECK (max_attempts >= 1),
    -- Not run before this time (scheduled jobs, retries' backoff, snoozes).
    run_at           timestamptz NOT NULL DEFAULT now(),
    -- The worker instance holding a running job, and until when its lease
    -- runs; the holder renews the lease while alive, and an expired lease
    -- means the holder died: the job is rescued.
    held_by          text,
    lease_expires_at timestamptz,
    attempted_at     timestamptz,
    -- Every failed attempt's error: [{"attempt":1,"at":"...","error":"..."}].
    errors           jsonb NOT NULL DEFAULT '[]' CONSTRAINT job_errors_array CHECK (jsonb_typeof(errors) = 'array'),
    -- Optional: at most one unfinished job per (kind, unique_key).
    unique_key       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- Set when the job reaches a final state; pruning goes by it.
    finalized_at     timestamptz,
    -- A running job always has a holder and a lease, and nothing else does.
    CONSTRAINT job_running_is_held CHECK ((state = 'running') = (held_by IS NOT NULL AND lease_expires_at IS NOT NULL)),
    -- Exactly the final states carry finalized_at.
    CONSTRAINT job_final_is_dated CHECK ((state IN ('completed', 'discarded', 'cancelled')) = (finalized_at IS NOT NULL))
);
COMMENT ON TABLE jobs.job IS 'Durable jobs for every worker. Claimed with FOR UPDATE SKIP LOCKED; finished rows are pruned after a retention period.';

-- Claiming: the next due jobs of one queue, in order, is an index scan of
-- only the available rows, however many finished ones the table holds.
CREATE INDEX job_claim_idx ON jobs.job (queue, priority, run_at, id) WHERE state = 'available';
-- Promoting scheduled and retryable jobs when they fall due.
CREATE INDEX job_due_idx ON jobs.job (run_at) WHERE state IN ('scheduled', 'retryable');
-- Finding expired leases (rescue) and a worker's held jobs (renewal).
CREATE INDEX job_lease_idx ON jobs.job (lease_expires_at) WHERE state = 'running';
CREATE INDEX job_held_by_idx ON jobs.job (held_by) WHERE state = 'running';
-- Pruning finished jobs by age.
CREATE INDEX job_finalized_idx ON jobs.job (finalized_at) WHERE finalized_at IS NOT NULL;
-- Unique jobs: one unfinished job per key.
CREATE UNIQUE INDEX job_unique_idx ON jobs.job (kind, unique_key)
    WHERE unique_key IS NOT NULL AND state NOT IN ('completed', 'discarded', 'cancelled');

-- A queue's table churns: every job is inserted, updated two or three
-- times and deleted. Vacuum it often so dead rows do not pile up. (No
-- reduced fillfactor: a change of state is never a HOT update, since
-- state appears in the partial indexes' predicates, so free room in each
-- page would buy nothing.)
ALTER TABLE jobs.job SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0.05,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 1
);

-- Queues: paused or not, for operators (`timebank jobs pause QUEUE`).
CREATE TABLE jobs.queue (
    name       text PRIMARY KEY CONSTRAINT queue_named CHECK (name ~ '^[a-z][a-z0-9_]{0,47}$'),
    paused     boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE jobs.queue IS 'Per-queue switches operators set; a paused queue is not claimed from.';

-- Idle workers say so here, so that enqueue notifies only when a NOTIFY
-- wakes someone: every notifying commit takes a cluster-wide lock, which
-- cost 39-63 % of the commit rate when each enqueue notified. Busy
-- workers keep claiming without being told; idle ones also poll.
CREATE UNLOGGED TABLE jobs.idle_worker (
    queue     text NOT NULL,
    worker    text NOT NULL,
    last_seen timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (queue, worker)
);
COMMENT ON TABLE jobs.idle_worker IS 'Workers waiting for jobs, by queue. Unlogged: after a crash it starts empty and workers poll until they re-register.';