-- The job engine's views: what operators read (`timebank top`, `timebank
-- jobs stats`, `timebank workers`) and the reporting schema builds on, in
-- one definition each.

-- Each queue's depth now: every queue that has jobs or a row in jobs.queue.
-- The counts read the partial indexes of their states (0002); finished jobs
-- are not counted here (`timebank jobs stats` adds them).
CREATE OR REPLACE VIEW jobs.queue_depth AS
SELECT q.name AS queue,
       coalesce((SELECT p.paused FROM jobs.queue p WHERE p.name = q.name), false) AS paused,
       -- Without a key and with one: each count reads its claim index (0030).
       ((SELECT count(*) FROM jobs.job j WHERE j.queue = q.name AND j.state = 'available' AND j.limit_key IS NULL)
        + (SELECT count(*) FROM jobs.job j WHERE j.queue = q.name AND j.state = 'available' AND j.limit_key IS NOT NULL))::integer AS waiting,
       (SELECT count(*) FROM jobs.job j WHERE j.queue = q.name AND j.state = 'running')::integer AS running,
       (SELECT count(*) FROM jobs.job j WHERE j.queue = q.name AND j.state = 'scheduled')::integer AS scheduled,
       (SELECT count(*) FROM jobs.job j WHERE j.queue = q.name AND j.state = 'retryable')::integer AS retrying,
       extract(epoch FROM now() - least(
           (SELECT min(j.run_at) FROM jobs.job j WHERE j.queue = q.name AND j.state = 'available' AND j.limit_key IS NULL AND j.run_at <= now()),
           (SELECT min(j.run_at) FROM jobs.job j WHERE j.queue = q.name AND j.state = 'available' AND j.limit_key IS NOT NULL AND j.run_at <= now())
       ))::float8 AS oldest_waiting_seconds
  FROM (SELECT DISTINCT queue FROM jobs.job UNION SELECT name FROM jobs.queue) AS q(name);
COMMENT ON VIEW jobs.queue_depth IS 'Each queue now: paused or not, jobs waiting (available), running, scheduled, waiting to be retried, and the oldest waiting job''s age in seconds (NULL when none waits).';

-- Each worker process the registry knows (0019), with its state: live,
-- stopped (said goodbye) or gone (stopped heartbeating; marked by another
-- worker's maintenance).
CREATE OR REPLACE VIEW jobs.worker_state AS
SELECT w.id, w.kind, w.host, w.pid, w.version, w.queues, w.concurrency, w.started_at, w.heartbeat_at,
       w.jobs_done, w.jobs_failed,
       CASE WHEN w.stopped_at IS NOT NULL THEN 'stopped' WHEN w.gone_at IS NOT NULL THEN 'gone' ELSE 'live' END AS state,
       coalesce(w.stopped_at, w.gone_at) AS ended_at,
       extract(epoch FROM now() - w.heartbeat_at)::float8 AS heartbeat_age_seconds
  FROM jobs.worker_instance w;
COMMENT ON VIEW jobs.worker_state IS 'Every worker process registered: live, stopped or gone, since when, and how long since its last heartbeat.';

-- Each job as operators see it (`timebank jobs list|show`, the web
-- console): a job's arguments are ids, never personal data (R23).
CREATE OR REPLACE VIEW jobs.job_summary AS
SELECT j.id, j.kind, j.queue, j.state::text AS state, j.attempt, j.max_attempts, j.run_at, j.held_by, j.created_at,
       j.attempted_at, j.finalized_at, j.args, j.errors
  FROM jobs.job j;
COMMENT ON VIEW jobs.job_summary IS 'Every job: kind, queue, state, attempts, times, arguments (ids) and every error. 任务';

-- The web console (issue 17, item 2) reads what `timebank top` and `timebank jobs` read.
GRANT SELECT ON jobs.queue_depth, jobs.worker_state, jobs.job_summary TO timebank_console;

-- Each limited key now (0030): its queue, the rule that applies (the
-- longest matching prefix), its jobs running and waiting, and the tokens
-- its rate's bucket held at its last claim. Keys that have limit state or
-- unfinished jobs under some rule.
CREATE OR REPLACE VIEW jobs.limit_usage AS
SELECT k.queue, k.limit_key, r.key_prefix, r.max_running, r.per_second, r.burst,
       (SELECT count(*) FROM jobs.job j WHERE j.state = 'running' AND j.queue = k.queue AND j.limit_key = k.limit_key)::integer AS running,
       (SELECT count(*) FROM jobs.job j WHERE j.state = 'available' AND j.queue = k.queue AND j.limit_key = k.limit_key)::integer AS waiting,
       s.tokens, s.updated_at AS last_claimed_at
  FROM (SELECT DISTINCT j.queue, j.limit_key FROM jobs.job j
         WHERE j.limit_key IS NOT NULL AND j.state IN ('available', 'running')
        UNION SELECT s.queue, s.limit_key FROM jobs.limit_state s) AS k
  CROSS JOIN LATERAL jobs.limit_rule_of(k.queue, k.limit_key) AS r
  LEFT JOIN jobs.limit_state s ON s.queue = k.queue AND s.limit_key = k.limit_key
 WHERE r.queue IS NOT NULL;
COMMENT ON VIEW jobs.limit_usage IS 'Each key under a limit rule now: the rule (longest matching prefix), its jobs running and waiting, the tokens left in its bucket at its last claim. 限流键用量';
