-- The console's accounts, for the DBA (`timebank console accounts`, as a
-- login that owns or administers the database): owner only, never
-- timebank_console's, so the console cannot make itself an operator.

-- Adds an account; the password is hashed here with bcrypt and never stored.
CREATE OR REPLACE FUNCTION bank.console_account_add(login text, power text, password text, staff_code text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    new_id bigint;
BEGIN
    IF password IS NULL OR length(password) < 12 THEN
        PERFORM bank.refuse('password', 'console', 'a console password has at least 12 characters');
    END IF;
    IF power IS NULL OR power NOT IN ('viewer', 'operator') THEN
        PERFORM bank.refuse('power', 'console', 'the power is viewer or operator');
    END IF;
    IF staff_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM bank.staff_member s WHERE s.code = staff_code AND s.active) THEN
        PERFORM bank.refuse('staff_code', 'console', 'no active staff member has this code (timebank staff add)');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.console_account a WHERE a.login = login) THEN
        PERFORM bank.refuse('login', 'console', 'an account with this login exists (logins are never reused)');
    END IF;
    INSERT INTO bank.console_account (login, password_hash, power, staff_code)
    VALUES (login, public.crypt(password, public.gen_salt('bf')), power, staff_code)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- Disables an account and ends its sessions at once. False: no active account has this login.
CREATE OR REPLACE FUNCTION bank.console_account_disable(login text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    disabled_id bigint;
BEGIN
    UPDATE bank.console_account a SET active = false, disabled_at = now() WHERE a.login = login AND a.active
    RETURNING a.id INTO disabled_id;
    UPDATE bank.console_session s SET ended_at = now() WHERE s.account_id = disabled_id AND s.ended_at IS NULL;
    RETURN disabled_id IS NOT NULL;
END
$$;
