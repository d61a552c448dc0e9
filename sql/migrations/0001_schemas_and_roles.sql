-- 0001: the schemas of DESIGN.md and the database roles.
--
-- Schemas by concern:
--   jobs       the job engine: queues of durable jobs (issue 4)
--   bank       the domain: people, accounts, services, the ledger
--   api        the SQL functions client applications call (the client contract)
--   reporting  documented views for analysts; no personal data
--
-- Roles: one per worker, one for client applications, one for analysts.
-- They are NOLOGIN group roles: operators create login roles (or grant
-- LOGIN and a password) per deployment, so no secret lives in this file.
-- Each is granted only what it owns, migration by migration; this one
-- grants nothing beyond USAGE on the schemas each will work in.

CREATE SCHEMA IF NOT EXISTS jobs;
COMMENT ON SCHEMA jobs IS 'The job engine: durable jobs claimed with FOR UPDATE SKIP LOCKED. 作业引擎';
CREATE SCHEMA IF NOT EXISTS bank;
COMMENT ON SCHEMA bank IS 'The time bank''s domain: people, accounts, services, the ledger. 时间银行业务数据';
CREATE SCHEMA IF NOT EXISTS api;
COMMENT ON SCHEMA api IS 'Functions client applications call to submit work. 客户端接口';
CREATE SCHEMA IF NOT EXISTS reporting;
COMMENT ON SCHEMA reporting IS 'Views for analysts, without personal data. 统计分析视图';

-- Roles are cluster-wide while this file runs once per database, so
-- several databases of one cluster (tests, staging beside production)
-- may create them at the same moment: creation tolerates an existing role.
DO $roles$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY[
        'timebank_enrollment',       -- enrollment-worker: people, eligibility, accounts
        'timebank_order',            -- order-worker: demands, bookings, check-in/out
        'timebank_settlement',       -- settlement-worker: the only writer of the ledger
        'timebank_notification',     -- notification-worker: the outbox
        'timebank_insurance_claim',  -- insurance-claim-worker: accident reports and claims
        'timebank_api',              -- client applications: execute api functions only
        'timebank_analyst'           -- analysts: read reporting views only
    ] LOOP
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created by another database's migration: fine
        END;
    END LOOP;
END
$roles$;

-- Nobody but the owner creates objects in these schemas; PUBLIC gets nothing.
REVOKE ALL ON SCHEMA jobs, bank, api, reporting FROM PUBLIC;

GRANT USAGE ON SCHEMA jobs TO timebank_enrollment, timebank_order, timebank_settlement,
    timebank_notification, timebank_insurance_claim;
GRANT USAGE ON SCHEMA bank TO timebank_enrollment, timebank_order, timebank_settlement,
    timebank_notification, timebank_insurance_claim;
GRANT USAGE ON SCHEMA api TO timebank_api;
GRANT USAGE ON SCHEMA reporting TO timebank_analyst;