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

-- The engine's own bookkeeping (a claim, recorded ends) commits without
-- waiting for its WAL flush (issue 18: during a 4-process settlement drain
-- the claims' commits were a third of the sessions waiting on WALWrite).
-- What a database crash (or a failover to a standby the commit had not
-- reached) can then forget is the last moment's claims and recorded ends:
-- those jobs are claimed and run again, which the engine's at-least-once
-- contract already allows (a worker can die at the same moment). Nothing
-- else is weakened: the setting is the transaction's, and the engine's
-- statements run in transactions of their own; a batch's jobs are
-- completed inside their work's own transaction (jobs.complete), which
-- waits for its flush as every domain transaction does, and a flush
-- carries every earlier WAL record with it, the claim's included.
CREATE OR REPLACE FUNCTION jobs.commit_without_waiting() RETURNS void
LANGUAGE sql AS $$
    SELECT set_config('synchronous_commit', 'off', true)
$$;

-- Claims up to `claim_limit` due jobs of a queue for `worker`. The ids are
-- picked in a subquery with FOR UPDATE SKIP LOCKED and LIMIT, so
-- concurrent workers skip each other's rows and the UPDATE touches no more
-- than the limit.
--
-- A queue some of whose waiting jobs carry a limit key (0030) is claimed
-- by jobs.claim_keyed instead; any other pays one probe of an empty range
-- of job_claim_keyed_idx, and its claim is the same single statement (of
-- job_claim_idx, which holds the jobs without a key).
CREATE OR REPLACE FUNCTION jobs.claim(from_queue text, claim_limit integer, worker text, lease interval)
RETURNS TABLE (id bigint, kind text, queue text, args text, attempt integer, max_attempts integer,
               run_at timestamptz, attempted_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
    PERFORM jobs.check_queue(from_queue);
    PERFORM jobs.commit_without_waiting();
    IF EXISTS (SELECT 1 FROM jobs.job k WHERE k.state = 'available' AND k.queue = from_queue AND k.limit_key IS NOT NULL) THEN
        RETURN QUERY SELECT * FROM jobs.claim_keyed(from_queue, claim_limit, worker, lease);
        RETURN;
    END IF;
    RETURN QUERY
    UPDATE jobs.job AS j
       SET state = 'running', attempt = j.attempt + 1, attempted_at = now(),
           held_by = claim.worker, lease_expires_at = now() + claim.lease
      FROM (SELECT n.id FROM jobs.job n
             WHERE n.state = 'available' AND n.limit_key IS NULL AND n.queue = from_queue AND n.run_at <= now()
               AND NOT EXISTS (SELECT 1 FROM jobs.queue q WHERE q.name = from_queue AND q.paused)
             ORDER BY n.priority, n.run_at, n.id
             LIMIT claim_limit
               FOR UPDATE SKIP LOCKED) AS next
     WHERE j.id = next.id
    RETURNING j.id, j.kind, j.queue, j.args::text, j.attempt, j.max_attempts, j.run_at, j.attempted_at;
END
$$;

-- The class of the limit keys' advisory locks (the first of their two
-- integers), apart from any other advisory lock of the database.
CREATE OR REPLACE FUNCTION jobs.limit_lock_class() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 18003;

-- jobs.claim for a queue with keyed jobs waiting (the caller checked the queue).
-- The batch is filled group by group: each key with due jobs, and the
-- jobs without a key as one more group, in the order of each group's next
-- job (priority, run_at, id), so no group waits behind another's backlog.
-- A key with a rule gets at most what its rule allows now:
--   max_running minus its jobs running (counted from jobs.job), and the
--   whole tokens of its bucket (jobs.limit_state, refilled at per_second
--   up to burst),
-- both read under the key's lock, a transaction advisory lock taken with
-- a try (the SKIP LOCKED of locks): another worker claiming the same key
-- at this moment makes this claim skip the key (the other claim takes
-- what the key allows), and the lock is held to commit, so the next claim
-- of the key counts the jobs this one started. (Two keys whose hashes
-- collide share a lock: a claim of one may skip the other, never exceed
-- it.) A key whose jobs are all running, or whose bucket is empty, gets
-- nothing and holds back no other group. A key that no rule matches is claimed like the unkeyed jobs, without limit.
CREATE OR REPLACE FUNCTION jobs.claim_keyed(from_queue text, claim_limit integer, worker text, lease interval)
RETURNS TABLE (id bigint, kind text, queue text, args text, attempt integer, max_attempts integer,
               run_at timestamptz, attempted_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    remaining integer := claim_limit;
    grp record;
    rule jobs.limit_rule;
    bucket jobs.limit_state;
    allowance integer;
    running integer;
    tokens double precision;
    claimed integer;
    clock timestamptz := clock_timestamp();
BEGIN
    IF EXISTS (SELECT 1 FROM jobs.queue q WHERE q.name = from_queue AND q.paused) THEN
        RETURN;
    END IF;
    FOR grp IN
        -- The queue's keys with available jobs: a loose index scan of
        -- job_claim_keyed_idx (one probe per key, however many jobs).
        WITH RECURSIVE keys(limit_key) AS (
            (SELECT k.limit_key FROM jobs.job k
              WHERE k.state = 'available' AND k.queue = from_queue AND k.limit_key IS NOT NULL
              ORDER BY k.limit_key LIMIT 1)
            UNION ALL
            SELECT (SELECT k.limit_key FROM jobs.job k
                     WHERE k.state = 'available' AND k.queue = from_queue AND k.limit_key IS NOT NULL AND k.limit_key > keys.limit_key
                     ORDER BY k.limit_key LIMIT 1)
              FROM keys WHERE keys.limit_key IS NOT NULL)
        SELECT keys.limit_key, h.priority, h.run_at, h.id
          FROM keys CROSS JOIN LATERAL (
              SELECT n.priority, n.run_at, n.id FROM jobs.job n
               WHERE n.state = 'available' AND n.queue = from_queue AND n.limit_key = keys.limit_key AND n.run_at <= now()
               ORDER BY n.priority, n.run_at, n.id LIMIT 1) AS h
         WHERE keys.limit_key IS NOT NULL
        UNION ALL
        -- The unkeyed jobs' next one (job_claim_idx).
        (SELECT NULL, n.priority, n.run_at, n.id FROM jobs.job n
          WHERE n.state = 'available' AND n.queue = from_queue AND n.limit_key IS NULL AND n.run_at <= now()
          ORDER BY n.priority, n.run_at, n.id LIMIT 1)
        ORDER BY 2, 3, 4
    LOOP
        EXIT WHEN remaining <= 0;
        allowance := remaining;
        rule := NULL;
        IF grp.limit_key IS NOT NULL THEN
            rule := jobs.limit_rule_of(from_queue, grp.limit_key);
        END IF;
        IF rule.queue IS NOT NULL THEN
            -- The key's claims, one at a time: a try-lock held to commit, so
            -- a key another worker is claiming is skipped, not waited for.
            -- (Not a lock on the key's row: its first claim would insert
            -- it, and a second claim would wait for that insert's commit.)
            CONTINUE WHEN NOT pg_try_advisory_xact_lock(jobs.limit_lock_class(), hashtext(from_queue || ' ' || grp.limit_key));
            SELECT * INTO bucket FROM jobs.limit_state s WHERE s.queue = from_queue AND s.limit_key = grp.limit_key;
            IF rule.max_running IS NOT NULL THEN
                -- A statement after the lock: its snapshot sees every claim of the key committed before.
                SELECT count(*) INTO running FROM jobs.job r
                 WHERE r.state = 'running' AND r.queue = from_queue AND r.limit_key = grp.limit_key;
                allowance := least(allowance, rule.max_running - running);
            END IF;
            IF rule.per_second IS NOT NULL THEN
                -- A bucket holds `burst` tokens (by default a second's worth); a new one is full.
                tokens := coalesce(rule.burst, greatest(1, ceil(rule.per_second)));
                tokens := least(tokens, coalesce(bucket.tokens + rule.per_second * extract(epoch FROM clock - bucket.updated_at), tokens));
                allowance := least(allowance, floor(tokens)::integer);
            END IF;
            CONTINUE WHEN allowance <= 0;
        END IF;
        -- Two statements, so that each reads its index (an OR of the two would read neither).
        IF grp.limit_key IS NULL THEN
            RETURN QUERY
            UPDATE jobs.job AS j
               SET state = 'running', attempt = j.attempt + 1, attempted_at = now(),
                   held_by = worker, lease_expires_at = now() + lease
              FROM (SELECT n.id FROM jobs.job n
                     WHERE n.state = 'available' AND n.queue = from_queue AND n.limit_key IS NULL AND n.run_at <= now()
                     ORDER BY n.priority, n.run_at, n.id
                     LIMIT allowance
                       FOR UPDATE SKIP LOCKED) AS next
             WHERE j.id = next.id
            RETURNING j.id, j.kind, j.queue, j.args::text, j.attempt, j.max_attempts, j.run_at, j.attempted_at;
        ELSE
            RETURN QUERY
            UPDATE jobs.job AS j
               SET state = 'running', attempt = j.attempt + 1, attempted_at = now(),
                   held_by = worker, lease_expires_at = now() + lease
              FROM (SELECT n.id FROM jobs.job n
                     WHERE n.state = 'available' AND n.queue = from_queue AND n.limit_key = grp.limit_key AND n.run_at <= now()
                     ORDER BY n.priority, n.run_at, n.id
                     LIMIT allowance
                       FOR UPDATE SKIP LOCKED) AS next
             WHERE j.id = next.id
            RETURNING j.id, j.kind, j.queue, j.args::text, j.attempt, j.max_attempts, j.run_at, j.attempted_at;
        END IF;
        GET DIAGNOSTICS claimed = ROW_COUNT;
        remaining := remaining - claimed;
        IF rule.queue IS NOT NULL THEN
            INSERT INTO jobs.limit_state AS s (queue, limit_key, tokens, updated_at)
            VALUES (from_queue, grp.limit_key, CASE WHEN rule.per_second IS NOT NULL THEN tokens - claimed END, clock)
            ON CONFLICT ON CONSTRAINT limit_state_pkey DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at;
        END IF;
    END LOOP;
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
    keyed_queues text[];
    keyed_keys text[];
BEGIN
    PERFORM jobs.commit_without_waiting();
    WITH ended AS (
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
           AND (allowed IS NULL OR j.queue = ANY(allowed))
        RETURNING j.queue, j.limit_key)
    SELECT count(*), array_agg(e.queue) FILTER (WHERE e.limit_key IS NOT NULL),
           array_agg(e.limit_key) FILTER (WHERE e.limit_key IS NOT NULL)
      INTO changed, keyed_queues, keyed_keys
      FROM ended e;
    IF keyed_keys IS NOT NULL THEN
        PERFORM jobs.wake_freed_keys(keyed_queues, keyed_keys);
    END IF;
    RETURN changed;
END
$$;

-- Wakes the idle workers of each queue where a job that just ended held a
-- place under a max_running rule while jobs of its key wait (issue 18,
-- item 3): a worker whose claim found that key full registered idle, and
-- would otherwise find the freed place only at its next poll. Only then:
-- a NOTIFY serialises its commit with every other notifying commit, so
-- the common ending (no key, or no such rule, or nothing waiting) sends none.
CREATE OR REPLACE FUNCTION jobs.wake_freed_keys(queues text[], limit_keys text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM jobs.wake(freed.queue)
       FROM (SELECT DISTINCT k.queue FROM unnest(queues, limit_keys) AS k(queue, limit_key)
              WHERE (jobs.limit_rule_of(k.queue, k.limit_key)).max_running IS NOT NULL
                AND EXISTS (SELECT 1 FROM jobs.job w
                             WHERE w.state = 'available' AND w.queue = k.queue AND w.limit_key = k.limit_key)) AS freed;
END
$$;

-- Records the attempts' ends this worker has not written yet and claims
-- the queue's next jobs, in one statement, so one round trip and one
-- commit (one WAL flush) do both (issue 18, item 2: a busy producer paid
-- a commit for its claim and its completer another for the results of
-- the jobs that had freed the slots). Guarded exactly as jobs.record and
-- jobs.claim, which it calls.
CREATE OR REPLACE FUNCTION jobs.record_and_claim(
    ids bigint[], attempts integer[], states text[], run_ats timestamptz[], messages text[],
    from_queue text, claim_limit integer, worker text, lease interval)
RETURNS TABLE (id bigint, kind text, queue text, args text, attempt integer, max_attempts integer,
               run_at timestamptz, attempted_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF cardinality(ids) > 0 THEN
        PERFORM jobs.record(ids, attempts, states, run_ats, messages, worker);
    END IF;
    RETURN QUERY SELECT * FROM jobs.claim(from_queue, claim_limit, worker, lease);
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
-- Never the jobs the calling worker says it holds (`worker`, `held`): it
-- renews them just before, but a process stalled between the renewal and
-- this call (a starved machine) would otherwise find its own running job's
-- lease expired and give it to be run twice. (A worker of the release
-- before, calling jobs.rescue(limit), spares nothing, as it did.)
CREATE OR REPLACE FUNCTION jobs.rescue(rescue_limit integer, worker text DEFAULT NULL, held bigint[] DEFAULT '{}') RETURNS SETOF bigint
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
               AND NOT coalesce(e.held_by = worker AND e.id = ANY(held), false)
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
    -- The limit states of keys unclaimed for as long (a new one starts with a full bucket, as they had).
    DELETE FROM jobs.limit_state WHERE (queue, limit_key) IN (
        SELECT s.queue, s.limit_key FROM jobs.limit_state s
         WHERE s.updated_at < now() - retention AND (allowed IS NULL OR s.queue = ANY(allowed))
         LIMIT prune_limit FOR UPDATE SKIP LOCKED);
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
