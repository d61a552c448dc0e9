-- 0018: R23, personal data protected (issue 8): national ID numbers and
-- phone numbers are stored encrypted (pgcrypto, OpenPGP symmetric, AES),
-- with a keyed hash (HMAC-SHA256) for uniqueness and look-up.
--
-- The key is never in the repository or the database: each session that
-- must encrypt, hash or decrypt gets it from its process's environment
-- (TIMEBANK_PII_KEY), which the Swift side passes as the session setting
-- timebank.pii_key (ConnectionSettings.withPersonalDataKey). Only what needs
-- it has it: client applications registering people, the registry's feed
-- loader, the notification worker (an SMS needs the number), and staff
-- who may read identities, each read recorded in bank.personal_data_read.
-- A session without it is refused with a clear error; nothing is written.


-- People: the ID and the phone number encrypted, the ID's hash unique (R3).
ALTER TABLE bank.person
    ADD COLUMN national_id_hash bytea,
    ADD COLUMN national_id_encrypted bytea,
    ADD COLUMN phone_encrypted bytea;
-- Existing rows are encrypted with the migrating session's key (needed only
-- when there are people to migrate). The expressions are those of
-- bank.personal_data_hash and bank.personal_data_encrypt (sql/functions/
-- bank/personal_data.sql), written out: a migration calls no function of
-- sql/functions, which are created after every migration has run.
DO $migrate$
DECLARE
    key text;
BEGIN
    IF EXISTS (SELECT 1 FROM bank.person) THEN
        key := nullif(current_setting('timebank.pii_key', true), '');
        IF key IS NULL OR length(key) < 32 THEN
            RAISE EXCEPTION 'R23: this session has no personal-data key (set TIMEBANK_PII_KEY, 32 characters or more, in the process''s environment)'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        UPDATE bank.person SET national_id_hash = public.hmac(convert_to(national_id, 'UTF8'), convert_to(key, 'UTF8'), 'sha256'),
                               national_id_encrypted = public.pgp_sym_encrypt(national_id, key, 'cipher-algo=aes256'),
                               phone_encrypted = CASE WHEN phone IS NULL THEN NULL
                                                      ELSE public.pgp_sym_encrypt(phone, key, 'cipher-algo=aes256') END;
    END IF;
END
$migrate$;
ALTER TABLE bank.person
    DROP CONSTRAINT IF EXISTS person_birth_date_from_id,  -- not in 0003's text since issue 14
    DROP CONSTRAINT person_one_per_national_id,
    DROP COLUMN national_id,
    DROP COLUMN phone,
    ALTER COLUMN national_id_hash SET NOT NULL,
    ALTER COLUMN national_id_encrypted SET NOT NULL;
-- R3: one person per national ID, checked on the hash.
ALTER TABLE bank.person ADD CONSTRAINT person_one_per_national_id UNIQUE (national_id_hash);
COMMENT ON COLUMN bank.person.national_id_hash IS 'R3, R23: HMAC-SHA256 of the national ID under the personal-data key: unique, for look-up.';
COMMENT ON COLUMN bank.person.national_id_encrypted IS 'R23: the national ID, encrypted (pgp_sym_encrypt, AES-256) under the personal-data key.';
COMMENT ON COLUMN bank.person.phone_encrypted IS 'R23: the mobile number, encrypted under the personal-data key.';

-- The registry's feed keeps the hash, not the ID: a BEFORE trigger turns
-- what the loader inserts into the hash (the loader's session has the key).
ALTER TABLE bank.volunteer_beijing_feed ADD COLUMN national_id_hash bytea, ALTER COLUMN national_id DROP NOT NULL;
DO $migrate$
BEGIN
    IF EXISTS (SELECT 1 FROM bank.volunteer_beijing_feed) THEN
        -- bank.personal_data_hash written out (see above); a missing key makes hmac() fail on NULL: refuse clearly first.
        IF coalesce(length(current_setting('timebank.pii_key', true)), 0) < 32 THEN
            RAISE EXCEPTION 'R23: this session has no personal-data key (set TIMEBANK_PII_KEY, 32 characters or more, in the process''s environment)'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        UPDATE bank.volunteer_beijing_feed
           SET national_id_hash = public.hmac(convert_to(national_id, 'UTF8'), convert_to(current_setting('timebank.pii_key'), 'UTF8'), 'sha256'),
               national_id = NULL;
    END IF;
END
$migrate$;
ALTER TABLE bank.volunteer_beijing_feed ALTER COLUMN national_id_hash SET NOT NULL,
    ADD CONSTRAINT feed_keeps_no_national_id CHECK (national_id IS NULL);
COMMENT ON COLUMN bank.volunteer_beijing_feed.national_id IS 'Always NULL once stored: the loader''s value becomes national_id_hash (R23).';

-- R23: every read of an identity: who, when, whose, why.
CREATE TABLE bank.personal_data_read (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id  bigint NOT NULL REFERENCES bank.person,
    staff      text NOT NULL CONSTRAINT read_staff_named CHECK (length(staff) BETWEEN 1 AND 100),
    purpose    text NOT NULL CONSTRAINT read_purpose_given CHECK (length(purpose) BETWEEN 1 AND 500),
    -- The database login that read it.
    login      text NOT NULL DEFAULT session_user,
    read_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bank.personal_data_read IS 'R23: every read of a person''s national ID and phone number: who, when, whose, why. 个人信息查阅记录';

-- Staff who may read identities are members of this role, and only they.
DO $roles$
BEGIN
    CREATE ROLE timebank_personal_data_reader NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created by another database's migration
END
$roles$;
GRANT USAGE ON SCHEMA api TO timebank_personal_data_reader;
GRANT SELECT (id, phone_encrypted, agent_institution_id) ON bank.person TO timebank_notification;
GRANT SELECT (national_id_hash) ON bank.volunteer_beijing_feed TO timebank_registry;