-- jobs: the job engine's statements (Sources/JobEngine/JobStore.swift calls
-- them): claiming, recording attempts, renewing leases, rescuing,
-- promoting, pruning, idling. They are SECURITY DEFINER so that no worker
-- role writes jobs.job itself (issue 15, finding 1: the order worker's
-- login updated, deleted and inserted other queues' jobs); each touches
-- only the queues the session's login may work (jobs.session_queues), so
-- a compromised worker can neither run, complete, delay nor delete the
-- jobs of another worker's queue.
--
-- The session's *login* (session_user) decides, not current_user: inside
-- a SECURITY DEFINER function current_user is the owner, and a login
-- cannot change its session_user.

-- The queues this session may work: those whose worker role
-- (jobs.queue_worker_role) its login is a member of; NULL for every queue
-- when its login is a member of timebank_owner (the migrator, the
-- operators' CLI, the tests and benchmarks, a superuser).
CREATE OR REPLACE FUNCTION jobs.session_queues() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN pg_has_role(session_user, 'timebank_owner', 'MEMBER') THEN NULL
                ELSE ARRAY(SELECT q.queue FROM jobs.queue_worker_role q WHERE pg_has_role(session_user, q.worker_role, 'MEMBER')) END
$$;

-- Refuses, naming the queue, a session that may not work it.
CREATE OR REPLACE FUNCTION jobs.check_queue(queue text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    allowed text[] := jobs.session_queues();
BEGIN
    IF allowed IS NOT NULL AND NOT queue = ANY(allowed) THEN
        RAISE EXCEPTION 'queue %: % is not a worker of this queue', queue, session_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

-- Claims up to `claim_limit` due jobs of a queue for `worker`. The ids are
-- picked in a subquery with FOR UPDATE SKIP LOCKED and LIMIT, so
-- concurrent workers skip each other's rows and the UPDATE touches no more
-- than the limit.
CREATE OR REPLACE FUNCTION jobs.claim(from_queue text, claim_limit integer, worker text, lease interval)
RETURNS TABLE (id bigint, kind text, queue text, args text, attempt integer, max_attempts integer,
               run_at timestamptz, attempted_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
    PERFORM jobs.check_queue(from_queue);
    RETURN QUERY
    UPDATE jobs.job AS j
       SET state = 'running', attempt = j.attempt + 1, attempted_at = now(),
           held_by = claim.worker, lease_expires_at = now() + claim.lease
      FROM (SELECT n.id FROM jobs.job n
             WHERE n.state = 'available' AND n.queue = from_queue AND n.run_at <= now()
               AND NOT EXISTS (SELECT 1 FROM jobs.queue q WHERE q.name = from_queue AND q.paused)
             ORDER BY n.priority, n.run_at, n.id
             LIMIT claim_limit
               FOR UPDATE SKIP LOCKED) AS next
     WHERE j.id = next.id
    RETURNING j.id, j.kind, j.queue, j.args::text, j.attempt, j.max_attempts, j.run_at, j.attempted_at;
END
$$;

-- Records a batch of attempts' ends in one statement; only rows still held
-- by `worker` at that attempt (and in the session's queues) change. A
-- snooze or a release at shutdown gives the attempt back.
CREATE OR REPLACE FUNCTION jobs.record(ids bigint[], attempts integer[], states text[], run_ats timestamptz[], messages text[], worker text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    allowed text[] := jobs.session_queues();
    changed integer;
BEGIN
    UPDATE jobs.job AS j
       SET state = r.state::jobs.job_state,
           attempt = CASE WHEN r.state IN ('scheduled', 'available') THEN j.attempt - 1 ELSE j.attempt END,
           run_at = coalesce(r.run_at, j.run_at),
           held_by = NULL, lease_expires_at = NULL,
           finalized_at = CASE WHEN r.state IN ('completed', 'discarded', 'cancelled') THEN now() END,
           errors = CASE WHEN r.message IS NULL THEN j.errors
                         ELSE j.errors || jsonb_build_object('attempt', j.attempt, 'at', now(), 'error', r.message) END
      FROM unnest(ids, attempts, states, run_ats, messages) AS r(id, attempt, state, run_at, message)
     WHERE j.id = r.id AND j.attempt = r.attempt AND j.state = 'running' AND j.held_by = worker
       AND (allowed IS NULL OR j.queue = ANY(allowed));
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;

-- Completes a batch's jobs inside the transaction that did their work,
-- guarded like jobs.record: a job rescued from this worker meanwhile is
-- left to its new holder (whose run finds the work done).
CREATE OR REPLACE FUNCTION jobs.complete(ids bigint[], attempts integer[], worker text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    allowed text[] := jobs.session_queues();
BEGIN
    UPDATE jobs.job AS j
       SET state = 'completed', held_by = NULL, lease_expires_at = NULL, finalized_at = now()
      FROM unnest(ids, attempts) AS r(id, attempt)
     WHERE j.id = r.id AND j.attempt = r.attempt AND j.state = 'running' AND j.held_by = worker
       AND (allowed IS NULL OR j.queue = ANY(allowed));
END
$$;

-- Extends the leases of the jobs `worker` knows it holds. Only those: a
-- claim whose answer was lost with the connection left rows held in this
-- worker's name that it never ran, and their leases must run out so that
-- the rescue gives them to someone.
CREATE OR REPLACE FUNCTION jobs.renew_leases(worker text, ids bigint[], lease interval) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    allowed text[] := jobs.session_queues();
    changed integer;
BEGIN
    UPDATE jobs.job SET lease_expires_at = now() + lease
     WHERE id = ANY(ids) AND state = 'running' AND held_by = worker
       AND (allowed IS NULL OR queue = ANY(allowed));
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;

-- Returns jobs whose lease expired (their worker died) to be retried, or
-- discards them when no attempt is left; the session's queues only. Safe
-- in many workers at once: each takes the rows the others have not locked.
CREATE OR REPLACE FUNCTION jobs.rescue(rescue_limit integer) RETURNS SETOF bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    allowed text[] := jobs.session_queues();
BEGIN
    RETURN QUERY
    UPDATE jobs.job AS j
       SET state = CASE WHEN j.attempt >= j.max_attempts THEN 'discarded' ELSE 'retryable' END::jobs.job_state,
           finalized_at = CASE WHEN j.attempt >= j.max_attempts THEN now() END,
           run_at = now(),
           errors = j.errors || jsonb_build_object('attempt', j.attempt, 'at', now(),
                    'error', 'rescued: the lease of ' || j.held_by || ' expired'),
           held_by = NULL, lease_expires_at = NULL
      FROM (SELECT e.id FROM jobs.job e
             WHERE e.state = 'running' AND e.lease_expires_at < now() AND (allowed IS NULL OR e.queue = ANY(allowed))
             ORDER BY e.lease_expires_at
             LIMIT rescue_limit
               FOR UPDATE SKIP LOCKED) AS expired
     WHERE j.id = expired.id
    RETURNING j.id;
END
$$;

-- Makes the session's scheduled and retryable jobs that fell due
-- available, and wakes the idle workers of their queues; how many.
CREATE OR REPLACE FUNCTION jobs.promote_due(promote_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    allowed text[] := jobs.session_queues();
    promoted integer;
BEGIN
    WITH due AS (
        UPDATE jobs.job AS j SET state = 'available'
          FROM (SELECT d.id FROM jobs.job d
                 WHERE d.state IN ('scheduled', 'retryable') AND d.run_at <= now() AND (allowed IS NULL OR d.queue = ANY(allowed))
                 ORDER BY d.run_at LIMIT promote_limit FOR UPDATE SKIP LOCKED) AS d
         WHERE j.id = d.id
        RETURNING j.queue)
    SELECT coalesce(sum(n), 0) INTO promoted
      FROM (SELECT count(*) AS n, jobs.wake(due.queue) IS NULL AS woke FROM due GROUP BY due.queue) per_queue;
    RETURN promoted;
END
$$;

-- Deletes the session's finished jobs older than `retention`, a batch at a time.
CREATE OR REPLACE FUNCTION jobs.prune(retention interval, prune_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    allowed text[] := jobs.session_queues();
    pruned integer;
BEGIN
    DELETE FROM jobs.job WHERE id IN (
        SELECT f.id FROM jobs.job f
         WHERE f.finalized_at < now() - retention AND (allowed IS NULL OR f.queue = ANY(allowed))
         ORDER BY f.finalized_at LIMIT prune_limit);
    GET DIAGNOSTICS pruned = ROW_COUNT;
    RETURN pruned;
END
$$;

-- Marks `worker` idle on a queue it works (so enqueues notify), or not.
CREATE OR REPLACE FUNCTION jobs.set_idle(queue text, worker text, idle boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM jobs.check_queue(queue);
    IF idle THEN
        INSERT INTO jobs.idle_worker (queue, worker) VALUES (queue, worker)
        ON CONFLICT ON CONSTRAINT idle_worker_pkey DO UPDATE SET last_seen = now();
    ELSE
        DELETE FROM jobs.idle_worker w WHERE w.queue = set_idle.queue AND w.worker = set_idle.worker;
    END IF;
END
$$;

-- Forgets idle registrations of workers that stopped refreshing them (a
-- crashed worker's row would only cause needless NOTIFYs).
CREATE OR REPLACE FUNCTION jobs.forget_silent_idle_workers() RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DELETE FROM jobs.idle_worker WHERE last_seen < now() - interval '5 minutes'
$$;

-- Hands back the jobs `worker` still holds (at shutdown), as if never
-- attempted, for other workers to take at once.
CREATE OR REPLACE FUNCTION jobs.release(worker text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    allowed text[] := jobs.session_queues();
    released integer;
BEGIN
    UPDATE jobs.job SET state = 'available', attempt = greatest(attempt - 1, 0), held_by = NULL, lease_expires_at = NULL
     WHERE state = 'running' AND held_by = worker AND (allowed IS NULL OR queue = ANY(allowed));
    GET DIAGNOSTICS released = ROW_COUNT;
    RETURN released;
END
$$;
