-- api: a request's outcome, and watching it (LISTEN timebank_requests).

-- A request's outcome: pending, completed (with its result) or refused (with the rule).
CREATE OR REPLACE FUNCTION api.request_status(request_id bigint)
RETURNS TABLE (status text, result jsonb, refusal text, created_at timestamptz, finished_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.status, r.result, r.refusal, r.created_at, r.finished_at FROM bank.request r WHERE r.id = request_id
$$;

-- Asks for a NOTIFY on channel timebank_requests (payload: the id) when
-- the request ends, and returns its status now: LISTEN first, then call
-- this, and no outcome can slip between the two.
CREATE OR REPLACE FUNCTION api.watch_request(request_id bigint)
RETURNS TABLE (status text, result jsonb, refusal text, created_at timestamptz, finished_at timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    UPDATE bank.request r SET watched = true WHERE r.id = request_id
    RETURNING r.status, r.result, r.refusal, r.created_at, r.finished_at
$$;
