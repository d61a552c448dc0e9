-- The web console's log-in (issue 17, item 2): timebank_console executes
-- these and the actions (actions.sql); the session's token is checked here,
-- inside the database, so a console process that is not handed a valid
-- cookie cannot act, whatever it runs.
--
-- A session's cookie holds 32 random bytes (hex); the table holds their
-- SHA-256 only. Refusals are recorded, not raised (a raise would roll the
-- record back): log-in answers no row, an action answers done = false.

-- How long a session lives: 12 hours at most, 1 hour without a request.
-- After 5 failed log-ins an account refuses every password for 15 minutes.
CREATE OR REPLACE FUNCTION bank.console_limits(OUT session_lifetime interval, OUT idle_timeout interval,
                                               OUT failures_before_lock integer, OUT lock_duration interval)
LANGUAGE sql IMMUTABLE AS $$
    SELECT interval '12 hours', interval '1 hour', 5, interval '15 minutes'
$$;

-- Records one console act (log-in, log-out, action), done or refused.
CREATE OR REPLACE FUNCTION bank.console_record(account_id bigint, action text, target text, done boolean, reason text)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO bank.console_action (account_id, action, target, outcome, reason)
    VALUES (account_id, action, left(target, 100), CASE WHEN done THEN 'done' ELSE 'refused' END, left(reason, 500))
$$;

-- Logs in: with the right password of an active, unlocked account, a new
-- session: its token (for the cookie; only its hash is kept) and CSRF token.
-- Otherwise no row, the failure counted and recorded.
CREATE OR REPLACE FUNCTION bank.console_log_in(login text, password text)
RETURNS TABLE (token text, csrf_token text, power text, expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    a bank.console_account;
    limits record;
    new_token text := encode(public.gen_random_bytes(32), 'hex');
    new_csrf text := encode(public.gen_random_bytes(32), 'hex');
    matches boolean;
BEGIN
    SELECT * INTO limits FROM bank.console_limits();
    SELECT * INTO a FROM bank.console_account c WHERE c.login = console_log_in.login FOR UPDATE;
    -- The same bcrypt work whether or not the account exists: the answer's
    -- time does not tell which logins exist.
    matches := public.crypt(coalesce(password, ''), coalesce(a.password_hash, public.gen_salt('bf'))) = a.password_hash;
    IF a.id IS NULL THEN
        PERFORM bank.console_record(NULL, 'log_in', left(login, 40), false, 'no such account');
        RETURN;
    ELSIF NOT a.active THEN
        PERFORM bank.console_record(a.id, 'log_in', a.login, false, 'account disabled');
        RETURN;
    ELSIF a.locked_until > now() THEN
        PERFORM bank.console_record(a.id, 'log_in', a.login, false, 'locked after repeated failures');
        RETURN;
    ELSIF NOT matches THEN
        UPDATE bank.console_account c
           SET failed_attempts = CASE WHEN c.failed_attempts + 1 >= limits.failures_before_lock THEN 0 ELSE c.failed_attempts + 1 END,
               locked_until = CASE WHEN c.failed_attempts + 1 >= limits.failures_before_lock THEN now() + limits.lock_duration
                                   ELSE c.locked_until END
         WHERE c.id = a.id;
        PERFORM bank.console_record(a.id, 'log_in', a.login, false, 'wrong password');
        RETURN;
    END IF;
    UPDATE bank.console_account c SET failed_attempts = 0, locked_until = NULL WHERE c.id = a.id;
    INSERT INTO bank.console_session (account_id, token_hash, csrf_token, expires_at)
    VALUES (a.id, public.digest(new_token, 'sha256'), new_csrf, now() + limits.session_lifetime);
    PERFORM bank.console_record(a.id, 'log_in', a.login, true, NULL);
    RETURN QUERY SELECT new_token, new_csrf, a.power, now() + limits.session_lifetime;
END
$$;

-- The live session a token names (not ended, not expired, not idle, its
-- account active), marked as seen now; internal to the functions here.
CREATE OR REPLACE FUNCTION bank.console_live_session(token text)
RETURNS TABLE (session_id bigint, account_id bigint, login text, power text, csrf_token text, staff_code text, expires_at timestamptz)
LANGUAGE sql AS $$
    UPDATE bank.console_session s SET last_seen_at = now()
      FROM bank.console_account a
     WHERE s.token_hash = public.digest(coalesce(token, ''), 'sha256') AND a.id = s.account_id AND a.active
       AND s.ended_at IS NULL AND s.expires_at > now() AND s.last_seen_at > now() - (bank.console_limits()).idle_timeout
    RETURNING s.id, a.id, a.login, a.power, s.csrf_token, a.staff_code, s.expires_at
$$;

-- The console asks this on every request: who the cookie's token logs in
-- (login, power, the CSRF token its forms carry); no row: log in again.
CREATE OR REPLACE FUNCTION bank.console_session(token text)
RETURNS TABLE (login text, power text, csrf_token text, may_decide_alerts boolean, expires_at timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.login, s.power, s.csrf_token, s.staff_code IS NOT NULL, s.expires_at FROM bank.console_live_session(token) s
$$;

-- Logs out: the session ends now (its cookie is worth nothing after).
CREATE OR REPLACE FUNCTION bank.console_log_out(token text, csrf_token text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    s record;
BEGIN
    SELECT * INTO s FROM bank.console_live_session(token);
    IF s.session_id IS NULL OR s.csrf_token IS DISTINCT FROM csrf_token THEN
        RETURN false;
    END IF;
    UPDATE bank.console_session c SET ended_at = now() WHERE c.id = s.session_id;
    PERFORM bank.console_record(s.account_id, 'log_out', s.login, true, NULL);
    RETURN true;
END
$$;

-- Whether `token` and `csrf_token` make a live session whose account holds
-- `power`. The account, or the refusal (recorded) as `refusal`.
CREATE OR REPLACE FUNCTION bank.console_authorize(token text, csrf_token text, power text, action text, target text,
                                                  OUT account_id bigint, OUT login text, OUT staff_code text, OUT refusal text)
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    s record;
BEGIN
    SELECT * INTO s FROM bank.console_live_session(token);
    IF s.session_id IS NULL THEN
        refusal := 'no live session: log in again';
    ELSIF csrf_token IS NULL OR s.csrf_token IS DISTINCT FROM csrf_token THEN
        refusal := 'the form''s CSRF token is not this session''s';
    ELSIF power = 'operator' AND s.power <> 'operator' THEN
        refusal := 'this account is a viewer: the action needs the operator power';
    END IF;
    account_id := s.account_id;
    login := s.login;
    staff_code := s.staff_code;
    IF refusal IS NOT NULL THEN
        PERFORM bank.console_record(s.account_id, action, target, false, refusal);
    END IF;
END
$$;
