-- 0030: per-key concurrency and rate limits (issue 18, item 3).
--
-- A job may carry a limit key (the insurer of a claim, `insurer:<code>`;
-- the route of a message, `channel:<recipient kind>`), and a queue a rule
-- per key prefix: at most max_running of a key's jobs running at once,
-- across every worker, and at most per_second started per second (a
-- token bucket of `burst`). jobs.claim (sql/functions/jobs/engine.sql)
-- enforces them: a queue whose waiting jobs carry no key is claimed by
-- the one statement it always was; otherwise each key's jobs are claimed
-- apart, a key under a rule under a lock of its own (a try-lock held to
-- commit), so two workers claiming
-- at once never together exceed a key's limit, and a busy or exhausted key
-- is skipped (the batch fills from the other keys), never waited for.
--
-- Running is counted live from jobs.job (a partial index of the running
-- keyed jobs), not kept in a counter, so completion, rescue, cancel and
-- release need not know about limits.

ALTER TABLE jobs.job ADD COLUMN limit_key text
    CONSTRAINT job_limit_key_bounded CHECK (limit_key <> '' AND length(limit_key) <= 200);
COMMENT ON COLUMN jobs.job.limit_key IS
    'Optional: the key the queue''s limit rules (jobs.limit_rule, longest key prefix) apply to, such as insurer:<code>. NULL: no limit.';
COMMENT ON CONSTRAINT job_limit_key_bounded ON jobs.job IS
    'A key is named (an empty key would match only the empty prefix, by accident) and short enough for an index entry.';

-- The available jobs split by key, each part in claim order. Without a
-- key: the claim index as before, now of those jobs alone, so a job
-- without a key is in exactly one index of available jobs, as before, and
-- a queue whose waiting jobs carry no key is claimed by the one statement
-- it always was. With a key: by queue and key, so a claim finds a queue's
-- keys (a loose index scan) and each key's next jobs in a probe each,
-- never walking past one key's backlog to reach another's (or the
-- unkeyed jobs). Every existing job has no key: the rebuilt index holds
-- what the old one did.
DROP INDEX jobs.job_claim_idx;
CREATE INDEX job_claim_idx ON jobs.job (queue, priority, run_at, id) WHERE state = 'available' AND limit_key IS NULL;
CREATE INDEX job_claim_keyed_idx ON jobs.job (queue, limit_key, priority, run_at, id)
    WHERE state = 'available' AND limit_key IS NOT NULL;
-- A key's running jobs, counted at each claim of that key.
CREATE INDEX job_running_keyed_idx ON jobs.job (queue, limit_key) WHERE state = 'running' AND limit_key IS NOT NULL;

CREATE TABLE jobs.limit_rule (
    queue       text NOT NULL CONSTRAINT limit_rule_queue_named CHECK (queue ~ '^[a-z][a-z0-9_]{0,47}$'),
    -- Applies to the keys that start with it; the longest matching prefix
    -- wins ('' matches every key of the queue).
    key_prefix  text NOT NULL CONSTRAINT limit_rule_prefix_bounded CHECK (length(key_prefix) <= 200),
    -- At most this many of one key's jobs running at once (NULL: no bound).
    max_running integer CONSTRAINT limit_rule_max_running_positive CHECK (max_running > 0),
    -- At most this many of one key's jobs started per second on average
    -- (NULL: no bound), and at most `burst` at once after a quiet spell.
    per_second  double precision CONSTRAINT limit_rule_rate_positive CHECK (per_second > 0),
    burst       integer CONSTRAINT limit_rule_burst_positive CHECK (burst > 0),
    -- Who set it, and when (`timebank jobs limits set`).
    set_by      text NOT NULL DEFAULT session_user,
    set_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (queue, key_prefix),
    CONSTRAINT limit_rule_limits_something CHECK (max_running IS NOT NULL OR per_second IS NOT NULL),
    CONSTRAINT limit_rule_burst_with_rate CHECK (burst IS NULL OR per_second IS NOT NULL)
);
COMMENT ON TABLE jobs.limit_rule IS
    'Limits per job key prefix of a queue: at most max_running of one key''s jobs at once, at most per_second started per second (burst at once); the longest matching prefix applies. Set with timebank jobs limits set. 按键限流规则';
COMMENT ON CONSTRAINT limit_rule_queue_named ON jobs.limit_rule IS 'A queue''s name, as jobs.job.queue allows it.';
COMMENT ON CONSTRAINT limit_rule_prefix_bounded ON jobs.limit_rule IS 'No longer than a key can be.';
COMMENT ON CONSTRAINT limit_rule_max_running_positive ON jobs.limit_rule IS 'A bound of zero would hold the key''s jobs for ever: pause the queue instead.';
COMMENT ON CONSTRAINT limit_rule_rate_positive ON jobs.limit_rule IS 'A rate of zero would hold the key''s jobs for ever.';
COMMENT ON CONSTRAINT limit_rule_burst_positive ON jobs.limit_rule IS 'A bucket that holds no token never starts a job.';
COMMENT ON CONSTRAINT limit_rule_limits_something ON jobs.limit_rule IS 'A rule that limits nothing is no rule: remove it.';
COMMENT ON CONSTRAINT limit_rule_burst_with_rate ON jobs.limit_rule IS 'A burst is the size of the rate''s bucket: meaningless without a rate.';

-- One row per (queue, key) that a rule applies to, written by each claim
-- of the key under the key's lock (engine.sql): the key's token bucket
-- and its last claim. Pruned with the finished jobs once unused for the
-- retention.
CREATE TABLE jobs.limit_state (
    queue      text NOT NULL,
    limit_key  text NOT NULL,
    -- Tokens left in the rate's bucket at updated_at (NULL: a full bucket).
    tokens     double precision,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (queue, limit_key)
);
COMMENT ON TABLE jobs.limit_state IS
    'Per queue and limited key: its token bucket for the rate and its last claim. Running jobs are counted from jobs.job, not here.';

-- Limits churn like the jobs they limit.
ALTER TABLE jobs.limit_state SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 100);

-- The workers' roles read them as they read the queues' switches (jobs.queue).
GRANT SELECT ON jobs.limit_rule, jobs.limit_state
    TO timebank_enrollment, timebank_order, timebank_settlement, timebank_notification, timebank_insurance_claim;

-- The enqueue functions take a limit key (sql/functions/jobs/queue.sql):
-- their old forms are dropped, the definitions re-create the new ones
-- right after the migrations. Found in the catalog: a fresh database has
-- none yet, and the definitions have not run when this does, so every
-- form found is an old one. No CASCADE: nothing depends on them (their
-- callers are plpgsql).
DO $drop$
DECLARE
    old regprocedure;
BEGIN
    FOR old IN SELECT p.oid::regprocedure FROM pg_proc p
                WHERE p.pronamespace = 'jobs'::regnamespace
                  AND p.proname IN ('enqueue', 'enqueue_many', 'enqueue_own', 'enqueue_many_own')
    LOOP
        EXECUTE format('DROP FUNCTION %s', old);
    END LOOP;
END
$drop$;
