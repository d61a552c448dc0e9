-- bank: the clock the rules read (issue 19, item 6).
--
-- Every rule that depends on the time reads bank.clock_now() (or
-- bank.clock_date(), bank.local_today()), never now() itself: the
-- publishing and booking windows (R16, R17), check-in and check-out and so
-- the served time (R18, R6), ages (R1, R2, R4, R9), budget periods (R9),
-- the dispute window (R19), accidents (R26), the supervision window (R21),
-- and the stamps a request and a service carry. On a production database
-- it is now(). On a database marked as development
-- (bank.development_clock, sql/migrations/0032) it runs ahead by the
-- offset a developer or a test moved it by, for the api and every worker
-- alike, so a two-hour service is walked in seconds.
--
-- What stays on real time, on purpose: the job engine (leases, claims,
-- retries, rescue, the heartbeats and its schedule: a lease measures how
-- long a live process may go unheard, which a moved clock must not
-- shorten, or every running job would be rescued at once), the ledger's
-- transfer times and a service's settled_at (when the database wrote the
-- coins: the ledger is never rewritten, and reports as of a day read it
-- in the order it was written), deliveries, insurers and quiet hours (the
-- outside world's time), console sessions and the ten minutes of a
-- personal-data read (security windows). A job that a rule schedules for a
-- moment of the clock (a demand's expiry, a no-show, a reminder) is
-- scheduled for the real time at which the clock reaches it, and moved
-- with the clock.

-- How far the clock runs ahead of the real time: zero unless the database
-- is marked as development.
CREATE OR REPLACE FUNCTION bank.clock_offset() RETURNS interval
LANGUAGE sql STABLE
RETURN coalesce((SELECT c.offset_by FROM bank.development_clock c), interval '0');

-- "Now" for the rules: the transaction's start, as now(), plus the offset.
CREATE OR REPLACE FUNCTION bank.clock_now() RETURNS timestamptz
LANGUAGE sql STABLE
RETURN now() + bank.clock_offset();

-- current_date on the clock (in the session's time zone, as current_date).
CREATE OR REPLACE FUNCTION bank.clock_date() RETURNS date
LANGUAGE sql STABLE
RETURN (bank.clock_now())::date;

-- Whether this database is marked as development.
CREATE OR REPLACE FUNCTION bank.is_development_database() RETURNS boolean
LANGUAGE sql STABLE
RETURN EXISTS (SELECT 1 FROM bank.development_clock);

-- Marks this database as development (idempotent). Executed by no
-- application role: by the owner or a superuser only, which is what the
-- local cluster's tooling and the tests connect as.
CREATE OR REPLACE FUNCTION bank.mark_development_database(marked_by text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO bank.development_clock (marked_by) VALUES (mark_development_database.marked_by)
    ON CONFLICT (development) DO NOTHING
$$;

-- The clock as a client sees it.
CREATE OR REPLACE FUNCTION bank.development_clock_state()
RETURNS TABLE (development boolean, clock_now timestamptz, real_now timestamptz, offset_by interval)
LANGUAGE sql STABLE AS $$
    SELECT bank.is_development_database(), clock_timestamp() + bank.clock_offset(), clock_timestamp(), bank.clock_offset()
$$;

-- Refuses, naming the rule, unless this database is marked as development.
CREATE OR REPLACE FUNCTION bank.require_development_database() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT bank.is_development_database() THEN
        RAISE EXCEPTION 'development clock: this database is not a development database, so its clock is the real time and does not move'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'rule: the clock moves only on a database marked as development (bank.development_clock), which the local cluster''s tooling and the tests mark; never a production database',
                  HINT = 'timebank db start gives a development cluster; then timebank migrate marks its database';
    END IF;
END
$$;

-- Moves the development clock forward by `by`, and with it the jobs a rule
-- scheduled for a moment of the clock (a demand's expiry, a no-show, a
-- volunteer's reminder), so that they run when the clock reaches their
-- moment. Refused on any other database, and for a step that is not
-- forward.
CREATE OR REPLACE FUNCTION bank.advance_development_clock("by" interval)
RETURNS TABLE (development boolean, clock_now timestamptz, real_now timestamptz, offset_by interval)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bank.require_development_database();
    IF "by" IS NULL OR "by" <= interval '0' THEN
        PERFORM bank.refuse('by', 'development clock', 'the clock moves forward only, by a positive interval (such as ''2 hours''); '
                                  || 'got ' || coalesce("by"::text, 'NULL'));
    END IF;
    IF "by" > interval '10 years' THEN
        PERFORM bank.refuse('by', 'development clock', 'the clock moves by at most 10 years at a time; got ' || "by"::text);
    END IF;
    UPDATE bank.development_clock c SET offset_by = c.offset_by + "by", moved_at = now();
    UPDATE jobs.job j SET run_at = greatest(now(), j.run_at - "by")
     WHERE j.state = 'scheduled'
       AND (j.kind IN ('order.expire', 'order.no_show')
            OR (j.kind = 'notify.deliver'
                AND EXISTS (SELECT 1 FROM bank.message m WHERE m.id = (j.args->>'id')::bigint AND m.template = 'service_reminder')));
    RETURN QUERY SELECT * FROM bank.development_clock_state();
END
$$;

-- Puts the development clock back to the real time (the owner's: the
-- `timebank clock reset` command). What was stamped meanwhile keeps its
-- stamps, some of them now in the future.
CREATE OR REPLACE FUNCTION bank.reset_development_clock()
RETURNS TABLE (development boolean, clock_now timestamptz, real_now timestamptz, offset_by interval)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bank.require_development_database();
    UPDATE bank.development_clock c SET offset_by = interval '0', moved_at = now();
    RETURN QUERY SELECT * FROM bank.development_clock_state();
END
$$;
