-- What operators do to jobs and queues: `timebank jobs retry|cancel|pause|
-- resume` (JobAdmin) and the web console's actions (sql/functions/console/)
-- both call these, so there is one way to do each. Owner only: the CLI runs
-- as a DBA, the console through its session-checking functions.

-- Makes a job that is not running available now, with at least one attempt
-- left, and wakes its queue. False when there is no such job.
CREATE OR REPLACE FUNCTION jobs.retry_job(job_id bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    job_queue text;
BEGIN
    UPDATE jobs.job SET state = 'available', run_at = now(), finalized_at = NULL,
           max_attempts = greatest(max_attempts, attempt + 1)
     WHERE id = job_id AND state <> 'running'
    RETURNING queue INTO job_queue;
    IF job_queue IS NULL THEN
        RETURN false;
    END IF;
    PERFORM jobs.wake(job_queue);
    RETURN true;
END
$$;

-- Cancels an unfinished job. A running one is cancelled too: its worker's
-- result will be refused, since the row is no longer running. False when
-- there is no unfinished job of that id.
CREATE OR REPLACE FUNCTION jobs.cancel_job(job_id bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE jobs.job SET state = 'cancelled', finalized_at = now(), held_by = NULL, lease_expires_at = NULL,
           errors = errors || jsonb_build_object('attempt', attempt, 'at', now(), 'error', 'cancelled by an operator')
     WHERE id = job_id AND state NOT IN ('completed', 'discarded', 'cancelled');
    RETURN FOUND;
END
$$;

-- Pauses or resumes a queue (a queue without a row yet gets one); resuming
-- wakes its idle workers at once.
CREATE OR REPLACE FUNCTION jobs.set_queue_paused(queue_name text, pause boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO jobs.queue AS q (name, paused) VALUES (queue_name, pause)
    ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = now();
    IF NOT pause THEN
        PERFORM jobs.wake(queue_name);
    END IF;
END
$$;
