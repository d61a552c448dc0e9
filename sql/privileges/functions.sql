-- Who may execute which function: every EXECUTE privilege on the
-- functions of jobs, bank, api and reporting, and on pgcrypto's, in one
-- place, per role.
--
-- This file is authoritative: it first takes every EXECUTE on those
-- schemas' functions (and pgcrypto's) away from PUBLIC and from each of our roles, then
-- grants what each role's job needs, in the same transaction (no moment
-- in between is visible to anyone). A privilege removed from this file is
-- therefore removed from the database the next time the definitions are
-- applied; a new function is executable by its owner alone until a line
-- here grants it. SECURITY DEFINER functions run as their owner, so a
-- role needs EXECUTE on the entry point only, not on what it calls.
--
-- PUBLIC (any login at all) executes none of our functions and none of
-- pgcrypto's (issue 15, finding 6): a login that is no member of our roles
-- can neither enqueue jobs nor decrypt what it could read.

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA jobs, bank, api, reporting
    FROM PUBLIC, timebank_enrollment, timebank_order, timebank_settlement, timebank_notification,
         timebank_insurance_claim, timebank_api, timebank_analyst, timebank_registry, timebank_personal_data_reader,
         timebank_console;
DO $pgcrypto$
DECLARE
    member regprocedure;
BEGIN
    FOR member IN
        SELECT p.oid::regprocedure FROM pg_proc p
          JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
          JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pgcrypto'
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC, timebank_enrollment, timebank_order, timebank_settlement, '
                       'timebank_notification, timebank_insurance_claim, timebank_api, timebank_analyst, timebank_registry, '
                       'timebank_personal_data_reader, timebank_console', member);
    END LOOP;
END
$pgcrypto$;

-- The owner runs pgcrypto inside its SECURITY DEFINER functions (the
-- hashes, encryption and signatures of R23 and R26), as whoever calls them.
DO $owner$
DECLARE
    member regprocedure;
BEGIN
    FOR member IN
        SELECT p.oid::regprocedure FROM pg_proc p
          JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
          JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pgcrypto'
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO timebank_owner', member);
    END LOOP;
END
$owner$;

-- The job engine, for every worker role (issue 15, finding 1): its own
-- statements (sql/functions/jobs/engine.sql, registry.sql), each limited to
-- the queues the login works, and the enqueue into its own queue. Not
-- jobs.enqueue: what a worker's step enqueues for another worker, its
-- step's code decides (the steps are SECURITY DEFINER).
GRANT EXECUTE ON FUNCTION jobs.claim(text, integer, text, interval),
    jobs.record(bigint[], integer[], text[], timestamptz[], text[], text), jobs.complete(bigint[], integer[], text),
    jobs.record_and_claim(bigint[], integer[], text[], timestamptz[], text[], text, integer, text, interval),
    jobs.renew_leases(text, bigint[], interval), jobs.rescue(integer, text, bigint[]), jobs.promote_due(integer), jobs.prune(interval, integer),
    jobs.set_idle(text, text, boolean), jobs.forget_silent_idle_workers(), jobs.release(text),
    jobs.register_worker(text, text, text, integer, text, text[], integer), jobs.worker_heartbeat(text, bigint, bigint),
    jobs.mark_silent_workers_gone(interval), jobs.worker_stopped(text, bigint, bigint),
    jobs.enqueue_own(text, jsonb, text, smallint, timestamptz, integer, text, text, text),
    jobs.enqueue_many_own(text, jsonb[], text, smallint, timestamptz, integer, text)
    TO timebank_enrollment, timebank_order, timebank_settlement, timebank_notification, timebank_insurance_claim;

-- pgcrypto for the two workers that sign what they send themselves (a
-- channel's secret is in their environment: Signer). No worker decrypts:
-- a phone number reaches the notification worker through
-- bank.message_to_send, after a recorded release (R23).
GRANT EXECUTE ON FUNCTION public.hmac(text, text, text) TO timebank_notification, timebank_insurance_claim;
-- (The analyst executes no hmac: no view it reads computes a pseudonym
-- since issue 15's finding 8; the detail functions that do run as their
-- owner.)

-- Client applications: the api schema, the client contract (0006), except
-- reading identities (R23), which is for staff alone. (Among them the
-- valid codes of issue 19: api.service_categories(),
-- api.special_elder_categories(), api.relation_kinds(), api.districts(),
-- api.service_items(text); and api.account_statement.)
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO timebank_api;
REVOKE EXECUTE ON FUNCTION api.record_personal_data_read(text, bigint, text), api.read_personal_data(bigint) FROM timebank_api;
GRANT EXECUTE ON FUNCTION api.record_personal_data_read(text, bigint, text), api.read_personal_data(bigint)
    TO timebank_personal_data_reader;

-- Analysts (R23, issue 15 finding 8): aggregates only. The views call
-- age_band and min_group_size with their reader's rights; the balances and
-- totals as of a day leave out groups of fewer than k people. Not the
-- per-account helper (reporting.account_balances) nor any *_detail function.
GRANT EXECUTE ON FUNCTION reporting.age_band(date), reporting.min_group_size(),
    reporting.balances_by_district_as_of(date), reporting.totals_as_of(date)
    TO timebank_analyst;
-- Rows per pseudonym: timebank_analyst_detail alone (0023), each read
-- recorded by the function itself. (Its own REVOKE here, not in the list
-- above: this role is this section's.)
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA jobs, bank, api, reporting FROM timebank_analyst_detail;
GRANT EXECUTE ON FUNCTION reporting.volunteer_detail(text), reporting.milestone_detail(text),
    reporting.special_elder_detail(text), reporting.balances_as_of(date, text)
    TO timebank_analyst_detail;

-- Each worker executes its own steps and nothing else of bank: every step
-- is SECURITY DEFINER, re-reads what it needs from the authoritative rows
-- and serves only its own kinds of request (issue 15, findings 1 and 2),
-- so a worker's login changes the bank only as its steps do. What a step
-- calls runs as the owner and needs no grant here.
GRANT EXECUTE ON FUNCTION bank.setting(text) TO timebank_settlement, timebank_notification, timebank_insurance_claim;

-- enrollment-worker: people, eligibility, relatives, guardians, the registry.
GRANT EXECUTE ON FUNCTION bank.enrollment_register_person(bigint), bank.enrollment_apply_volunteer(bigint),
    bank.enrollment_authenticate_elder(bigint), bank.enrollment_declare_relative(bigint), bank.enrollment_verify_relative(bigint),
    bank.enrollment_import_registry(bigint), bank.enrollment_confirm_insurance(bigint),
    bank.enrollment_set_status(bigint), bank.enrollment_register_institution(bigint),
    bank.enrollment_link_guardian(bigint), bank.enrollment_verify_guardian(bigint)
    TO timebank_enrollment;

-- order-worker: demands, bookings, check-in and out, ratings, items, minors.
GRANT EXECUTE ON FUNCTION bank.order_create_service(bigint), bank.order_review(bigint),
    bank.order_book(bigint), bank.order_check_in(bigint), bank.order_check_out(bigint), bank.order_cancel(bigint),
    bank.order_expire(bigint), bank.order_no_show(bigint), bank.order_rate(bigint), bank.order_report_not_given(bigint),
    bank.order_define_item(bigint), bank.order_join_as_minor(bigint)
    TO timebank_order;

-- settlement-worker: the only writer of the ledger, through these steps alone.
GRANT EXECUTE ON FUNCTION bank.settlement_open_account(bigint), bank.settlement_grant(bigint),
    bank.settlement_hold(bigint), bank.settlement_release(bigint), bank.settlement_settle(bigint[]),
    bank.settlement_set_budget(bigint), bank.settlement_move(bigint),
    bank.settlement_decide_dispute(bigint), bank.settlement_confirm_fraud(bigint)
    TO timebank_settlement;
-- ...and the daily balance snapshots (ledger.snapshot, issue 18): derived
-- from the transfers it wrote, checked by ledger verify --full.
GRANT EXECUTE ON FUNCTION bank.take_balance_snapshots(date) TO timebank_settlement;
-- Issue 18: the monthly partitions, created ahead and expired by the settlement worker's daily job.
GRANT EXECUTE ON FUNCTION bank.maintain_monthly_partitions(timestamptz) TO timebank_settlement;

-- notification-worker: the outbox, the supervision scan (R21), and a phone
-- number at send time for a channel that sends it (R23).
GRANT EXECUTE ON FUNCTION bank.notify_dispatch(bigint[]), bank.message_to_send(bigint), bank.release_phone(bigint),
    bank.record_delivery_attempt(bigint, text, timestamptz, integer, integer, text, text, text),
    bank.supervision_scan()
    TO timebank_notification;

-- insurance-claim-worker: accident claims, their delivery, the registry
-- export, and the insurers' status callbacks its endpoint serves (issue 17).
GRANT EXECUTE ON FUNCTION bank.claims_validate(bigint), bank.claim_package(bigint), bank.insurer_callback(text, text, text),
    bank.claims_record_attempt(bigint, text, timestamptz, integer, integer, text, text, text),
    bank.registry_export_next(date), bank.registry_export_record(date, integer, bigint, bigint, integer, bigint, integer, integer)
    TO timebank_insurance_claim;

-- ======================================================================
-- Staff (issue 15, finding 9). The civil-affairs desk's back end,
-- timebank_staff, executes the staff acts, each under a member of
-- bank.staff_member checked against its district and powers
-- (sql/functions/bank/staff.sql); the residents' timebank_api executes
-- none of them, and the desk nothing of the residents' or agents' acts.
-- Both see requests' outcomes. Authoritative like the rest of this file:
-- the staff role first loses everything.

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA jobs, bank, api, reporting FROM timebank_staff;
DO $staff_pgcrypto$
DECLARE
    member regprocedure;
BEGIN
    FOR member IN
        SELECT p.oid::regprocedure FROM pg_proc p
          JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
          JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pgcrypto'
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM timebank_staff', member);
    END LOOP;
END
$staff_pgcrypto$;

REVOKE EXECUTE ON FUNCTION
    api.set_district_budget(text, text, date, date, bigint),                           -- R9, city-level
    api.grant_coins(text, text, bigint, text, bigint),                                 -- R9
    api.grant_from_welfare(text, bigint, text, bigint),                                -- R10
    api.review_demand(text, bigint, boolean, text),                                    -- R16
    api.verify_relative(text, bigint, text),                                           -- R8
    api.verify_guardian(text, bigint, text),                                           -- R2
    api.set_person_status(text, bigint, text, text),                                   -- R3, R22
    api.confirm_insurance(text, bigint, text, text, date, date),                       -- R25
    api.register_agent_institution(text, text, text, text, text, jsonb),               -- R5
    api.define_service_item(text, text, text, text, text, integer),                    -- R15
    api.import_volunteer_beijing(text),                                                -- R24, city-level
    api.decide_report(text, bigint, boolean, text),                                    -- R19
    api.dismiss_alert(text, bigint, text),                                             -- R21
    api.confirm_fraud(text, bigint, text, bigint, bigint[])                            -- R22
    FROM timebank_api;
GRANT EXECUTE ON FUNCTION
    api.set_district_budget(text, text, date, date, bigint),
    api.grant_coins(text, text, bigint, text, bigint),
    api.grant_from_welfare(text, bigint, text, bigint),
    api.review_demand(text, bigint, boolean, text),
    api.verify_relative(text, bigint, text),
    api.verify_guardian(text, bigint, text),
    api.set_person_status(text, bigint, text, text),
    api.confirm_insurance(text, bigint, text, text, date, date),
    api.register_agent_institution(text, text, text, text, text, jsonb),
    api.define_service_item(text, text, text, text, text, integer),
    api.import_volunteer_beijing(text),
    api.decide_report(text, bigint, boolean, text),
    api.dismiss_alert(text, bigint, text),
    api.confirm_fraud(text, bigint, text, bigint, bigint[]),
    -- What the desk reads to follow and check its acts.
    api.request_status(bigint), api.watch_request(bigint),
    api.balance(bigint), api.service_status(bigint), api.service_history(bigint), api.insured_on(bigint, date),
    api.achievements(bigint), api.claim_history(bigint), api.account_statement(bigint, timestamptz, timestamptz),
    -- The valid codes (issue 19), which the desk's acts take too.
    api.service_categories(), api.special_elder_categories(), api.relation_kinds(), api.districts(), api.service_items(text)
    TO timebank_staff;
-- Issue 19: waiting for an outcome from psql or a script, and the clock
-- the rules read (moving it is the client's, on a development database only).
GRANT EXECUTE ON FUNCTION api.await_request(bigint, double precision), api.await_settlement(bigint, double precision), api.development_clock()
    TO timebank_staff;

-- ======================================================================
-- The web console (issue 17, item 2; sql/functions/console/). Its role
-- executes log-in, the session check, log-out and the actions, each of
-- which checks the session's token (and for an action the operator power
-- and the form's CSRF token) inside the database and records the act; it
-- executes nothing that acts without a session: not jobs.retry_job, not
-- bank.retry_message, not api.dismiss_alert, not the account functions.
-- Its reads are the views it is granted (sql/views/), and a claim's history.
GRANT EXECUTE ON FUNCTION
    bank.console_log_in(text, text), bank.console_session(text), bank.console_log_out(text, text),
    bank.console_retry_job(text, text, bigint), bank.console_cancel_job(text, text, bigint),
    bank.console_set_queue_paused(text, text, text, boolean),
    bank.console_retry_delivery(text, text, bigint), bank.console_resend_claim(text, text, bigint),
    bank.console_dismiss_alert(text, text, bigint, text), bank.console_confirm_fraud(text, text, bigint, bigint, text, bigint[]),
    api.claim_history(bigint)
    TO timebank_console;
