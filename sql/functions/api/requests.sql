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

-- Waits (up to timeout_seconds) for a request to end, and returns its
-- outcome, as api.request_status would then: for psql and scripts, which
-- cannot LISTEN and wait in between (a program LISTENs instead:
-- api.watch_request). Each look is a statement of its own, so it sees the
-- workers' commits (in a READ COMMITTED session, the default). A request
-- recorded in the caller's own open transaction is returned at once: no
-- worker can see it before that transaction commits.
CREATE OR REPLACE FUNCTION api.await_request(request_id bigint, timeout_seconds double precision DEFAULT 10)
RETURNS TABLE (status text, result jsonb, refusal text, created_at timestamptz, finished_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    deadline timestamptz;
    current_status text;
    own boolean;
BEGIN
    IF timeout_seconds IS NULL OR NOT timeout_seconds BETWEEN 0 AND 60 THEN
        PERFORM bank.refuse('timeout_seconds', 'requests', 'a request is awaited for 0 to 60 seconds; got '
                                                           || coalesce(timeout_seconds::text, 'NULL'));
    END IF;
    deadline := clock_timestamp() + timeout_seconds * interval '1 second';
    LOOP
        SELECT r.status, r.xmin::text = pg_current_xact_id_if_assigned()::xid::text INTO current_status, own
          FROM bank.request r WHERE r.id = request_id;
        EXIT WHEN current_status IS DISTINCT FROM 'pending' OR own OR clock_timestamp() >= deadline;
        PERFORM pg_sleep(0.02);
    END LOOP;
    RETURN QUERY SELECT r.status, r.result, r.refusal, r.created_at, r.finished_at FROM bank.request r WHERE r.id = request_id;
END
$$;
COMMENT ON FUNCTION api.await_request(bigint, double precision) IS
'等待请求结束（至多 timeout_seconds 秒），返回其结果，同 api.request_status：供 psql 与脚本使用；程序请先 LISTEN timebank_requests 再调用 api.watch_request。须在提交请求的事务提交之后调用（同一事务中的请求立即返回 pending），会话为默认的 READ COMMITTED。 / Waits (up to timeout_seconds) for a request to end and returns its outcome, as api.request_status does: for psql and scripts; a program LISTENs on timebank_requests and calls api.watch_request instead. Call it after the transaction that submitted the request committed (a request of the same open transaction is returned at once, pending), in a READ COMMITTED session (the default).
参数 / Arguments:
- request_id: api 函数返回的请求编号 / the request id an api function returned
- timeout_seconds: 最多等待的秒数，0 至 60，默认 10 / how long to wait at most, 0 to 60 seconds, 10 by default
返回 / Returns: 与 api.request_status 相同的一行；超时仍为 pending；找不到时不返回行 / the row api.request_status gives; still pending after the timeout; no row for an unknown id.
拒绝 / Refusals:
- timeout_seconds requests（SQLSTATE 22023，DETAIL field: timeout_seconds）：为空或不在 0 至 60 之间 / NULL, or not between 0 and 60.';

-- Waits (up to timeout_seconds) for a checked-out service to be settled
-- (R6: its coins credited by the settlement worker, after the check-out's
-- request completed), for psql and scripts, as api.await_request does for
-- a request.
CREATE OR REPLACE FUNCTION api.await_settlement(service_id bigint, timeout_seconds double precision DEFAULT 10)
RETURNS TABLE (status text, settled_minutes integer, settled_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    deadline timestamptz;
    settled timestamptz;
BEGIN
    PERFORM bank.service_for(service_id);
    IF timeout_seconds IS NULL OR NOT timeout_seconds BETWEEN 0 AND 60 THEN
        PERFORM bank.refuse('timeout_seconds', 'requests', 'a settlement is awaited for 0 to 60 seconds; got '
                                                           || coalesce(timeout_seconds::text, 'NULL'));
    END IF;
    deadline := clock_timestamp() + timeout_seconds * interval '1 second';
    LOOP
        SELECT s.settled_at INTO settled FROM bank.service s WHERE s.id = await_settlement.service_id;
        EXIT WHEN settled IS NOT NULL OR clock_timestamp() >= deadline;
        PERFORM pg_sleep(0.02);
    END LOOP;
    RETURN QUERY SELECT s.status::text, s.settled_minutes, s.settled_at FROM bank.service s WHERE s.id = await_settlement.service_id;
END
$$;
COMMENT ON FUNCTION api.await_settlement(bigint, double precision) IS
'R6：等待已签退的服务结算完成（结算工作进程把时间币记入志愿者账户；签退请求完成之后才进行），至多 timeout_seconds 秒，供 psql 与脚本使用；程序可改为订阅 coins_credited 通知。 / R6: waits (up to timeout_seconds) for a checked-out service to be settled (the settlement worker credits the volunteer''s coins, after the check-out''s request completed): for psql and scripts; a program may follow the coins_credited notification instead.
参数 / Arguments:
- service_id: 已签退的服务 / the checked-out service
- timeout_seconds: 最多等待的秒数，0 至 60，默认 10 / how long to wait at most, 0 to 60 seconds, 10 by default
返回 / Returns: 一行：status、settled_minutes（记入的分钟数）、settled_at（超时未结算则为 NULL） / one row: status, settled_minutes (the minutes credited), settled_at (NULL if not settled within the timeout).
拒绝 / Refusals:
- service_id R16（SQLSTATE 22023，DETAIL field: service_id）：无此服务 / no service has this id
- timeout_seconds requests（SQLSTATE 22023，DETAIL field: timeout_seconds）：为空或不在 0 至 60 之间 / NULL, or not between 0 and 60.';
