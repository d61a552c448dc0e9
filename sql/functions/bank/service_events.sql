-- bank: who did what to a service: every change of its status is recorded
-- with the performer (a trigger), and the lock a step takes on the
-- service it acts on.

-- Locks the service a request is about, for a step on it.
CREATE OR REPLACE FUNCTION bank.locked_service(r bank.request) RETURNS bank.service
LANGUAGE sql AS $$
    SELECT * FROM bank.service WHERE id = (r.args->>'service_id')::bigint FOR UPDATE
$$;

-- The request a step is serving, set by the worker for the step's
-- transaction (timebank.request_id); NULL when the system acts.
CREATE OR REPLACE FUNCTION bank.record_service_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
        -- At the bank's clock's time, as the service's own stamps (sql/functions/bank/clock.sql).
        INSERT INTO bank.service_event (service_id, status, request_id, at)
        VALUES (NEW.id, NEW.status, nullif(current_setting('timebank.request_id', true), '')::bigint, bank.clock_now());
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER service_state_recorded AFTER INSERT OR UPDATE OF status ON bank.service
    FOR EACH ROW EXECUTE FUNCTION bank.record_service_event();
