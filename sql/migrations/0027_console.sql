-- 0027: the operators' web console (issue 17, item 2: `timebank console`).
--
--   timebank_console       the console's group role: it reads the console's
--                          views (no personal data: ids and pseudonyms only)
--                          and acts only through bank.console_* functions
--                          (sql/functions/console/), each of which checks a
--                          session token, the account's power and, for an
--                          action, the session's CSRF token inside the
--                          database, and records what it did;
--   bank.console_account   who may log in: a login name, a bcrypt hash
--                          (pgcrypto's crypt with gen_salt('bf')), a power;
--   bank.console_session   a logged-in browser: the SHA-256 of its cookie's
--                          token (never the token), its CSRF token, expiry;
--   bank.console_action    every log-in, log-out and action, refused or done;
--   bank.ledger_verify_run the outcome of each `timebank ledger verify`, for
--                          the console's ledger page.
--
-- A compromised console process holds only timebank_console's rights: it
-- can read what the pages show, and act only with a live operator session.

-- Roles are cluster-wide: creation tolerates an existing role (as in 0001).
DO $roles$
BEGIN
    CREATE ROLE timebank_console NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created by another database's migration: fine
END
$roles$;

-- api: for api.claim_history alone (sql/privileges/functions.sql).
GRANT USAGE ON SCHEMA jobs, bank, api TO timebank_console;

-- Who may log in to the console. Disabled, never deleted (the action record
-- refers to it), so that a login names one account forever.
CREATE TABLE bank.console_account (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login           text NOT NULL
                    CONSTRAINT console_account_login_unique UNIQUE
                    -- What operators type: letters, digits, . _ -; no spaces, nothing to escape.
                    CONSTRAINT console_account_login_form CHECK (login ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$'),
    -- crypt(password, gen_salt('bf')): bcrypt, salted, slow on purpose.
    password_hash   text NOT NULL
                    -- Only a bcrypt hash is ever stored, never a password by mistake.
                    CONSTRAINT console_account_password_bcrypt CHECK (password_hash ~ '^\$2[abxy]\$'),
    -- viewer: reads every page; operator: also retries, cancels, pauses, resends.
    power           text NOT NULL CONSTRAINT console_account_power_known CHECK (power IN ('viewer', 'operator')),
    -- R21/R22: the staff member (bank.staff_member) whose powers the
    -- account's supervision decisions use through api.dismiss_alert and
    -- api.confirm_fraud, which check them; NULL: the account decides no alert.
    staff_code      text REFERENCES bank.staff_member (code),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz,
    -- Log-in throttling: failures since the last success, and until when
    -- the account refuses every password (5 failures: 15 minutes).
    failed_attempts integer NOT NULL DEFAULT 0
                    -- A count, never negative.
                    CONSTRAINT console_account_failures_counted CHECK (failed_attempts >= 0),
    locked_until    timestamptz,
    -- Disabling is dated, and final for this row (a returning operator gets a new login).
    CONSTRAINT console_account_disabling_dated CHECK (active = (disabled_at IS NULL))
);
COMMENT ON TABLE bank.console_account IS 'Operators who log in to the web console (timebank console accounts): login, bcrypt hash, power viewer or operator. 控制台账户';
COMMENT ON COLUMN bank.console_account.login IS 'The name the operator logs in with; unique, never reused. 登录名';
COMMENT ON COLUMN bank.console_account.power IS 'viewer (reads) or operator (reads and acts). 权限';
COMMENT ON COLUMN bank.console_account.staff_code IS 'The staff member whose powers supervision decisions use (NULL: none). 对应工作人员编号';
COMMENT ON COLUMN bank.console_account.active IS 'Whether the account may log in; disabled accounts stay for the record. 是否启用';
COMMENT ON COLUMN bank.console_account.locked_until IS 'After 5 failed log-ins, no password is accepted until then. 锁定至';

-- A logged-in browser. The cookie holds a random token; only its SHA-256 is
-- here, so a read of this table logs no one in.
CREATE TABLE bank.console_session (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES bank.console_account,
    token_hash   bytea NOT NULL
                 CONSTRAINT console_session_token_unique UNIQUE
                 -- A SHA-256, nothing else.
                 CONSTRAINT console_session_token_sha256 CHECK (length(token_hash) = 32),
    -- Sent back with every form; an action without it is refused (CSRF).
    csrf_token   text NOT NULL
                 -- 32 random bytes, hex.
                 CONSTRAINT console_session_csrf_form CHECK (csrf_token ~ '^[0-9a-f]{64}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    -- Absolute expiry (12 hours); an idle session (1 hour) ends too.
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    -- A session ends after it starts, and expires after it starts.
    CONSTRAINT console_session_times_ordered CHECK (expires_at > created_at AND (ended_at IS NULL OR ended_at >= created_at))
);
COMMENT ON TABLE bank.console_session IS 'Console log-ins: the SHA-256 of the cookie''s token, the CSRF token, expiry. 控制台会话';
CREATE INDEX console_session_account_idx ON bank.console_session (account_id, created_at);

-- Every log-in (refused too), log-out and action, by whom, on what.
CREATE TABLE bank.console_action (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL: a log-in with a login no account has.
    account_id  bigint REFERENCES bank.console_account,
    action      text NOT NULL
                -- The console's acts, each a function of sql/functions/console/.
                CONSTRAINT console_action_known CHECK (action IN (
                    'log_in', 'log_out', 'retry_job', 'cancel_job', 'pause_queue', 'resume_queue',
                    'retry_delivery', 'resend_claim', 'dismiss_alert', 'confirm_fraud')),
    -- What it acted on: a job's, message's, claim's or alert's id, a queue's name.
    target      text,
    -- done, or refused (with why: a wrong password, no power, a bad CSRF token).
    outcome     text NOT NULL CONSTRAINT console_action_outcome_known CHECK (outcome IN ('done', 'refused')),
    reason      text,
    at          timestamptz NOT NULL DEFAULT now(),
    -- A refusal says why.
    CONSTRAINT console_action_refusal_explained CHECK (outcome = 'done' OR reason IS NOT NULL)
);
COMMENT ON TABLE bank.console_action IS 'Every console log-in, log-out and action: who, what, on what, done or refused, when. 控制台操作记录';
COMMENT ON COLUMN bank.console_action.target IS 'The job, message, claim or alert id, or the queue name. 操作对象';
COMMENT ON COLUMN bank.console_action.outcome IS 'done or refused. 结果';
CREATE INDEX console_action_at_idx ON bank.console_action (at);

-- Each `timebank ledger verify`: when, and which checks broke.
CREATE TABLE bank.ledger_verify_run (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ran_at   timestamptz NOT NULL DEFAULT now(),
    -- [{"check": name, "problem": text or null}, ...], as bank.verify_ledger() returned them.
    checks   jsonb NOT NULL
             -- A list of checks, not anything else.
             CONSTRAINT ledger_verify_run_checks_list CHECK (jsonb_typeof(checks) = 'array'),
    verified boolean NOT NULL
);
COMMENT ON TABLE bank.ledger_verify_run IS 'The outcome of each timebank ledger verify: every check and its first problem. 账本核对记录';
COMMENT ON COLUMN bank.ledger_verify_run.verified IS 'Whether every check held. 是否通过';
