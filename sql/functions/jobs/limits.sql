-- jobs: the limit rules of keyed jobs (0030), as operators set them
-- (`timebank jobs limits set|list|remove`, JobAdmin). jobs.claim applies
-- them (engine.sql). These are the owner's: no application role executes
-- them, so no worker lifts its own limits. A change applies from the next
-- claim on; the queue's idle workers are woken to make it.

-- Sets (or replaces) the rule of a queue's keys that start with
-- `key_prefix`: at most max_running of one key's jobs at once, at most
-- per_second started per second with bursts of `burst` (by default a
-- second's worth). NULL leaves that bound off; a rule needs one of them.
CREATE OR REPLACE FUNCTION jobs.limit_set(queue text, key_prefix text, max_running integer,
                                          per_second double precision DEFAULT NULL, burst integer DEFAULT NULL)
RETURNS jobs.limit_rule
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    rule jobs.limit_rule;
BEGIN
    INSERT INTO jobs.limit_rule AS r (queue, key_prefix, max_running, per_second, burst)
    VALUES (queue, key_prefix, max_running, per_second,
            CASE WHEN per_second IS NOT NULL THEN coalesce(burst, greatest(1, ceil(per_second))::integer) ELSE burst END)
    ON CONFLICT ON CONSTRAINT limit_rule_pkey DO UPDATE
       SET max_running = excluded.max_running, per_second = excluded.per_second, burst = excluded.burst,
           set_by = session_user, set_at = now()
    RETURNING r.* INTO rule;
    PERFORM jobs.wake(queue);
    RETURN rule;
END
$$;

-- Removes a rule; true if there was one. The keys it covered fall under
-- the next longest prefix, or none.
CREATE OR REPLACE FUNCTION jobs.limit_remove(queue text, key_prefix text) RETURNS boolean
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    DELETE FROM jobs.limit_rule r WHERE r.queue = limit_remove.queue AND r.key_prefix = limit_remove.key_prefix;
    IF NOT FOUND THEN RETURN false; END IF;
    PERFORM jobs.wake(queue);
    RETURN true;
END
$$;

-- The rule of a key in a queue: the longest key prefix that matches (none: NULL).
CREATE OR REPLACE FUNCTION jobs.limit_rule_of(queue text, limit_key text) RETURNS jobs.limit_rule
LANGUAGE sql STABLE AS $$
    SELECT r FROM jobs.limit_rule r
     WHERE r.queue = limit_rule_of.queue AND starts_with(limit_rule_of.limit_key, r.key_prefix)
     ORDER BY length(r.key_prefix) DESC
     LIMIT 1
$$;
