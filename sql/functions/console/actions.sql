-- The web console's actions (issue 17, item 2). Each takes the session's
-- cookie token and the form's CSRF token, checks them and the operator
-- power (bank.console_authorize), then does what the CLI does through the
-- same function (jobs.retry_job, bank.retry_message, bank.claims_resend,
-- api.dismiss_alert...), and records the act, done or refused, in
-- bank.console_action. A refusal answers done = false with the reason; it
-- changes nothing (what the act started is rolled back to its savepoint).

-- Runs one authorized act: `act` is a statement whose one boolean column
-- says whether it did anything (false or no row: `nothing` is the reason,
-- and what it did is rolled back). Internal.
CREATE OR REPLACE FUNCTION bank.console_act(token text, csrf_token text, action text, target text, act text, nothing text,
                                            VARIADIC arguments text[] DEFAULT '{}', OUT done boolean, OUT message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    actor record;
BEGIN
    SELECT * INTO actor FROM bank.console_authorize(token, csrf_token, 'operator', action, target);
    IF actor.refusal IS NOT NULL THEN
        done := false;
        message := actor.refusal;
        RETURN;
    END IF;
    BEGIN
        -- $1: the account's login, $2: its staff member's code, $3...: the act's own arguments.
        EXECUTE act INTO done USING actor.login, actor.staff_code, arguments;
        -- Nothing done is a refusal too, and leaves nothing behind.
        IF NOT coalesce(done, false) THEN
            RAISE EXCEPTION USING ERRCODE = 'no_data_found', MESSAGE = nothing;
        END IF;
        message := 'done';
    EXCEPTION WHEN OTHERS THEN
        done := false;
        message := SQLERRM;
    END;
    PERFORM bank.console_record(actor.account_id, action, target, done, CASE WHEN done THEN NULL ELSE message END);
END
$$;

-- Jobs: retry a job that is not running; cancel an unfinished one.
CREATE OR REPLACE FUNCTION bank.console_retry_job(token text, csrf_token text, job_id bigint, OUT done boolean, OUT message text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM bank.console_act(token, csrf_token, 'retry_job', job_id::text,
                                   'SELECT jobs.retry_job(($3)[1]::bigint)', 'no such job, or it is running', job_id::text)
$$;

CREATE OR REPLACE FUNCTION bank.console_cancel_job(token text, csrf_token text, job_id bigint, OUT done boolean, OUT message text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM bank.console_act(token, csrf_token, 'cancel_job', job_id::text,
                                   'SELECT jobs.cancel_job(($3)[1]::bigint)', 'no unfinished job has this id', job_id::text)
$$;

-- Queues: pause (no job of it is claimed) or resume.
CREATE OR REPLACE FUNCTION bank.console_set_queue_paused(token text, csrf_token text, queue_name text, pause boolean,
                                                         OUT done boolean, OUT message text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM bank.console_act(token, csrf_token, CASE WHEN pause THEN 'pause_queue' ELSE 'resume_queue' END, queue_name,
                                   'SELECT true FROM (SELECT jobs.set_queue_paused(($3)[1], ($3)[2]::boolean)) AS act', 'not done', queue_name, pause::text)
$$;

-- Deliveries: send a message again on the channels that have not delivered it.
CREATE OR REPLACE FUNCTION bank.console_retry_delivery(token text, csrf_token text, message_id bigint, OUT done boolean, OUT message text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM bank.console_act(token, csrf_token, 'retry_delivery', message_id::text,
                                   'SELECT bank.retry_message(($3)[1]::bigint) IS NOT NULL', 'nothing to send again', message_id::text)
$$;

-- Claims: send an undeliverable claim again, as the console's account.
CREATE OR REPLACE FUNCTION bank.console_resend_claim(token text, csrf_token text, claim_id bigint, OUT done boolean, OUT message text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM bank.console_act(token, csrf_token, 'resend_claim', claim_id::text,
                                   'SELECT true FROM (SELECT bank.claims_resend(($3)[1]::bigint, ''console:'' || $1)) AS act', 'not done', claim_id::text)
$$;

-- R21: dismiss an alert, as the account's staff member (api.dismiss_alert
-- checks that member's power and district, as for `timebank supervision dismiss`).
CREATE OR REPLACE FUNCTION bank.console_dismiss_alert(token text, csrf_token text, alert_id bigint, reason text,
                                                      OUT done boolean, OUT message text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM bank.console_act(token, csrf_token, 'dismiss_alert', alert_id::text,
                                   'SELECT true FROM (SELECT api.dismiss_alert($2, ($3)[1]::bigint, ($3)[2])) AS act', 'not done', alert_id::text, reason)
$$;

-- R22: confirm fraud for one of an alert's people, as the account's staff
-- member, taking back the coins of `services` (api.confirm_fraud checks
-- both; the settlement worker carries it out).
CREATE OR REPLACE FUNCTION bank.console_confirm_fraud(token text, csrf_token text, alert_id bigint, person_id bigint, reason text,
                                                      services bigint[], OUT done boolean, OUT message text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM bank.console_act(token, csrf_token, 'confirm_fraud', alert_id::text,
                                   'SELECT api.confirm_fraud($2, ($3)[2]::bigint, ($3)[3], ($3)[1]::bigint, ($3)[4]::bigint[]) IS NOT NULL',
                                   'not done', alert_id::text, person_id::text, reason, coalesce(services, '{}')::text)
$$;
