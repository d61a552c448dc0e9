-- 0022: the data of the trust boundaries (issue 15, findings 1, 2 and 5).
--
-- * timebank_owner: a NOLOGIN role, not a superuser, that owns every
--   schema object of jobs, bank, api and reporting (sql/privileges/
--   ownership.sql gives it each object, every time the definitions are
--   applied). Its SECURITY DEFINER functions are therefore no superuser's:
--   they cannot SET session_replication_role, and they are bound by what
--   the owner itself may do. No application login is a member of it; the
--   migrator's login is (a DBA's credential: see the README's security
--   section and docs/runbook.md).
-- * jobs.queue_worker_role: which role's members work which queue. The job
--   engine's functions (sql/functions/jobs/engine.sql) let a session claim,
--   complete, rescue or enqueue directly only in the queues of the roles it
--   is a member of, so the order worker can neither run nor forge nor
--   delete the settlement worker's jobs.

DO $owner$
BEGIN
    BEGIN
        CREATE ROLE timebank_owner NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;  -- created by another database's migration of this cluster: fine
    END;
    -- The migrator gives objects to the owner and creates them as it: a
    -- superuser may already; any other migrator login becomes a member.
    IF NOT pg_has_role(current_user, 'timebank_owner', 'MEMBER') THEN
        EXECUTE format('GRANT timebank_owner TO %I', current_user);
    END IF;
END
$owner$;

-- The owner creates the job engine's and the api's objects in its schemas.
GRANT USAGE, CREATE ON SCHEMA jobs, bank, api, reporting TO timebank_owner;

CREATE TABLE jobs.queue_worker_role (
    queue       text PRIMARY KEY,
    -- The group role whose members (the worker's login) work this queue:
    -- claim its jobs, complete them, and enqueue into it from outside SQL.
    worker_role name NOT NULL
);
COMMENT ON TABLE jobs.queue_worker_role IS
    'Which role works each queue: only its members claim, complete, rescue or directly enqueue the queue''s jobs (a queue not listed: only the owner''s members, such as the operators'' CLI and the tests). 队列与工作角色';

-- The five workers (Sources/TimebankWorkers/WorkerKind.swift: queue and
-- databaseRole; JobKindTests checks that both say the same).
INSERT INTO jobs.queue_worker_role (queue, worker_role) VALUES
    ('enrollment', 'timebank_enrollment'),
    ('order', 'timebank_order'),
    ('settlement', 'timebank_settlement'),
    ('notifications', 'timebank_notification'),
    ('claims', 'timebank_insurance_claim')
ON CONFLICT (queue) DO NOTHING;

-- A step now names the kinds of request it serves
-- (bank.pending_request(bigint, text[]), sql/functions/bank/requests.sql).
DROP FUNCTION IF EXISTS bank.pending_request(bigint);
