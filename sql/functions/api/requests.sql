-- api: a request's outcome, and watching it (LISTEN timebank_requests).

-- A request's outcome: pending, completed (with its result) or refused (with the rule).
CREATE OR REPLACE FUNCTION api.request_status(request_id bigint)
RETURNS TABLE (status text, result jsonb, refusal text, created_at timestamptz, finished_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.status, r.result, r.refusal, r.created_at, r.finished_at FROM bank.request r WHERE r.id = request_id
$$;
COMMENT ON FUNCTION api.request_status(bigint) IS
'请求的结果：pending 处理中，completed 已完成（附结果），refused 被拒（附规则）。 / A request''s outcome: pending, completed (with its result) or refused (with the rule).
参数 / Arguments:
- request_id: api 函数返回的请求编号 / the request id an api function returned
返回 / Returns: 一行：status、result（完成时的结果，如新编号）、refusal（被拒原因，以规则开头）、created_at、finished_at / one row: status, result (what it produced, ids), refusal (why, naming the rule), created_at, finished_at.
拒绝 / Refusals: 无；找不到时不返回行 / none: an unknown id gives no row.';

-- Asks for a NOTIFY on channel timebank_requests (payload: the id) when
-- the request ends, and returns its status now: LISTEN first, then call
-- this, and no outcome can slip between the two.
CREATE OR REPLACE FUNCTION api.watch_request(request_id bigint)
RETURNS TABLE (status text, result jsonb, refusal text, created_at timestamptz, finished_at timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    UPDATE bank.request r SET watched = true WHERE r.id = request_id
    RETURNING r.status, r.result, r.refusal, r.created_at, r.finished_at
$$;
COMMENT ON FUNCTION api.watch_request(bigint) IS
'订阅请求的结束：请求结束时在频道 timebank_requests 上发出 NOTIFY（内容为请求编号），并返回此刻的状态。先 LISTEN timebank_requests，再调用此函数，结果不会遗漏；调用时已结束的请求不会再发通知，其状态即在返回行中。 / Asks for a NOTIFY on channel timebank_requests (payload: the id) when the request ends, and returns its status now: LISTEN first, then call this, and no outcome slips between the two. A request already finished sends none: the row returned says so.
参数 / Arguments:
- request_id: api 函数返回的请求编号 / the request id an api function returned
返回 / Returns: 与 api.request_status 相同的一行 / the row api.request_status gives.
拒绝 / Refusals: 无；找不到时不返回行 / none: an unknown id gives no row.';
