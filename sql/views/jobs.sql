-- The job engine's views: what operators read (`timebank top`, `timebank
-- jobs stats`, `timebank workers`) and the reporting schema builds on, in
-- one definition each.

-- Each queue's depth now: every queue that has jobs or a row in jobs.queue.
-- The counts read the partial indexes of their states (0002); finished jobs
-- are not counted here (`timebank jobs stats` adds them).
CREATE OR REPLACE VIEW jobs.queue_depth AS
SELECT q.name AS queue,
       coalesce((SELECT p.paused FROM jobs.queue p WHERE p.name = q.name), false) AS paused,
       (SELECT count(*) FROM jobs.job j WHERE j.queue = q.name AND j.state = 'available')::integer AS waiting,
       (SELECT count(*) FROM jobs.job j WHERE j.queue = q.name AND j.state = 'running')::integer AS running,
       (SELECT count(*) FROM jobs.job j WHERE j.queue = q.name AND j.state = 'scheduled')::integer AS scheduled,
       (SELECT count(*) FROM jobs.job j WHERE j.queue = q.name AND j.state = 'retryable')::integer AS retrying,
       (SELECT extract(epoch FROM now() - min(j.run_at))::float8 FROM jobs.job j
         WHERE j.queue = q.name AND j.state = 'available' AND j.run_at <= now()) AS oldest_waiting_seconds
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
