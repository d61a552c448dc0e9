-- api: the development clock (issue 19, item 6), for client developers
-- and tests: walk a two-hour service in seconds, through the api alone.
-- Reading the clock works on every database (production: the real time);
-- moving it only on a database marked as development (sql/functions/bank/clock.sql).

CREATE OR REPLACE FUNCTION api.development_clock()
RETURNS TABLE (development boolean, clock_now timestamptz, real_now timestamptz, offset_by interval)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM bank.development_clock_state()
$$;
COMMENT ON FUNCTION api.development_clock() IS
'银行的规则此刻读到的时间：开发数据库上为实际时间加上开发时钟拨快的量，生产数据库上即实际时间。 / The time the bank''s rules read now: on a development database the real time plus how far its development clock was moved, on a production database the real time.
参数 / Arguments: 无 / none.
返回 / Returns: 一行：development（是否为开发数据库）、clock_now（规则读到的“现在”）、real_now（实际时间）、offset_by（两者之差） / one row: development (whether the database is marked as development), clock_now (the "now" the rules read), real_now (the real time), offset_by (the difference).
拒绝 / Refusals: 无 / none.';

CREATE OR REPLACE FUNCTION api.advance_development_clock("by" interval)
RETURNS TABLE (development boolean, clock_now timestamptz, real_now timestamptz, offset_by interval)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM bank.advance_development_clock("by")
$$;
COMMENT ON FUNCTION api.advance_development_clock(interval) IS
'仅限开发数据库：把开发时钟拨快，api 与所有工作进程同时看到新的“现在”（签到、签出与服务时长、预约与发布的时间窗、评价与申诉期限、意外报告、年龄），规则为某一时刻安排的任务（需求过期、未到场、提醒）随之提前。任务引擎的租约与调度仍用实际时间。 / Development databases only: moves the development clock forward, so that the api and every worker see the same later "now" (check-in, check-out and the time served, the booking and publishing windows, the dispute window, accidents, ages), and the jobs a rule scheduled for a moment of the clock (a demand''s expiry, a no-show, a reminder) come earlier with it. The job engine''s leases and schedule stay on real time.
参数 / Arguments:
- by: 拨快多少，正的时间间隔，至多 10 年，如 ''2 hours'' / how far forward: a positive interval of at most 10 years, such as ''2 hours''
返回 / Returns: 与 api.development_clock 相同的一行 / the row api.development_clock gives.
拒绝 / Refusals:
- SQLSTATE 55000 object_not_in_prerequisite_state：数据库不是开发数据库（生产数据库的时钟不能拨动；本地集群的工具与测试才标记开发数据库）/ the database is not marked as development (a production database''s clock never moves; only the local cluster''s tooling and the tests mark one)
- by development clock（SQLSTATE 22023，DETAIL field: by）：为空、不为正或超过 10 年 / NULL, not positive, or more than 10 years.';
