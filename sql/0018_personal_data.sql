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

-- The session's key, or a refusal naming the rule.
CREATE FUNCTION bank.personal_data_key() RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    key text := nullif(current_setting('timebank.pii_key', true), '');
BEGIN
    IF key IS NULL OR length(key) < 32 THEN
        RAISE EXCEPTION 'R23: this session has no personal-data key (set TIMEBANK_PII_KEY, 32 characters or more, in the process''s environment)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN key;
END
$$;

-- Equal values give equal hashes under one key: uniqueness and look-up
-- without the value.
CREATE FUNCTION bank.personal_data_hash(value text) RETURNS bytea
LANGUAGE sql STABLE
RETURN CASE WHEN value IS NULL THEN NULL ELSE public.hmac(convert_to(value, 'UTF8'), convert_to(bank.personal_data_key(), 'UTF8'), 'sha256') END;

CREATE FUNCTION bank.personal_data_encrypt(value text) RETURNS bytea
LANGUAGE sql VOLATILE
RETURN CASE WHEN value IS NULL THEN NULL ELSE public.pgp_sym_encrypt(value, bank.personal_data_key(), 'cipher-algo=aes256') END;

CREATE FUNCTION bank.personal_data_decrypt(value bytea) RETURNS text
LANGUAGE sql STABLE
RETURN CASE WHEN value IS NULL THEN NULL ELSE public.pgp_sym_decrypt(value, bank.personal_data_key()) END;

-- People: the ID and the phone number encrypted, the ID's hash unique (R3).
ALTER TABLE bank.person
    ADD COLUMN national_id_hash bytea,
    ADD COLUMN national_id_encrypted bytea,
    ADD COLUMN phone_encrypted bytea;
-- Existing rows are encrypted with the migrating session's key (needed only
-- when there are people to migrate).
DO $migrate$
BEGIN
    IF EXISTS (SELECT 1 FROM bank.person) THEN
        UPDATE bank.person SET national_id_hash = bank.personal_data_hash(national_id),
                               national_id_encrypted = bank.personal_data_encrypt(national_id),
                               phone_encrypted = bank.personal_data_encrypt(phone);
    END IF;
END
$migrate$;
ALTER TABLE bank.person
    DROP CONSTRAINT person_birth_date_from_id,
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
        UPDATE bank.volunteer_beijing_feed SET national_id_hash = bank.personal_data_hash(national_id), national_id = NULL;
    END IF;
END
$migrate$;
ALTER TABLE bank.volunteer_beijing_feed ALTER COLUMN national_id_hash SET NOT NULL,
    ADD CONSTRAINT feed_keeps_no_national_id CHECK (national_id IS NULL);
COMMENT ON COLUMN bank.volunteer_beijing_feed.national_id IS 'Always NULL once stored: the loader''s value becomes national_id_hash (R23).';

CREATE FUNCTION bank.hash_feed_national_id() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.national_id IS NOT NULL THEN
        NEW.national_id_hash := bank.personal_data_hash(NEW.national_id);
        NEW.national_id := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER feed_national_id_hashed BEFORE INSERT OR UPDATE ON bank.volunteer_beijing_feed
    FOR EACH ROW EXECUTE FUNCTION bank.hash_feed_national_id();

-- R3, R23: registration. The ID is checked in the clear, then only its
-- hash and ciphertext (and the birth date and gender read from it) enter
-- the request log; the name is removed from it once the person exists.
CREATE OR REPLACE FUNCTION api.register_person(national_id text, name text, phone text, beijing_resident boolean, district_code text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    problem text := bank.national_id_problem(national_id);
    hash bytea;
BEGIN
    IF problem IS NOT NULL THEN
        PERFORM bank.refuse('national_id', 'R3', 'the national ID ' || problem);
    END IF;
    IF bank.national_id_birth_date(national_id) > current_date THEN
        PERFORM bank.refuse('national_id', 'R3', 'the national ID holds a birth date in the future');
    END IF;
    hash := bank.personal_data_hash(national_id);
    IF EXISTS (SELECT 1 FROM bank.person p WHERE p.national_id_hash = hash) THEN
        PERFORM bank.refuse('national_id', 'R3', 'a person with this national ID is already registered');
    END IF;
    IF name IS NULL OR length(btrim(name)) NOT BETWEEN 1 AND 100 THEN
        PERFORM bank.refuse('name', 'R3', 'a name of 1 to 100 characters is needed');
    END IF;
    IF phone IS NOT NULL AND phone !~ '^1[3-9][0-9]{9}$' THEN
        PERFORM bank.refuse('phone', 'R3', 'a phone number is a mainland mobile number of 11 digits');
    END IF;
    IF beijing_resident IS NULL THEN
        PERFORM bank.refuse('beijing_resident', 'R1', 'say whether the person is a Beijing permanent resident');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.district d WHERE d.code = district_code) THEN
        PERFORM bank.refuse('district_code', 'R15', 'no Beijing district has code ' || coalesce(district_code, 'NULL'));
    END IF;
    RETURN bank.submit('register_person',
        jsonb_build_object('national_id_hash', encode(hash, 'hex'),
                           'national_id_encrypted', encode(bank.personal_data_encrypt(national_id), 'base64'),
                           'phone_encrypted', encode(bank.personal_data_encrypt(phone), 'base64'),
                           'birth_date', bank.national_id_birth_date(national_id),
                           'gender', CASE WHEN substr(national_id, 17, 1)::int % 2 = 1 THEN 'male' ELSE 'female' END,
                           'name', btrim(name), 'beijing_resident', beijing_resident, 'district_code', district_code),
        'enrollment.register_person', 'enrollment');
END
$$;

-- The enrollment step needs no key: it stores what the api encrypted.
CREATE OR REPLACE FUNCTION bank.enrollment_register_person(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    person bigint;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.person (national_id_hash, national_id_encrypted, phone_encrypted, name, birth_date, gender,
                             beijing_resident, district_code, request_id, agent_institution_id)
    VALUES (decode(r.args->>'national_id_hash', 'hex'), decode(r.args->>'national_id_encrypted', 'base64'),
            decode(r.args->>'phone_encrypted', 'base64'), r.args->>'name', (r.args->>'birth_date')::date, r.args->>'gender',
            (r.args->>'beijing_resident')::boolean, r.args->>'district_code', r.id, r.agent_institution_id)
    ON CONFLICT (national_id_hash) DO NOTHING
    RETURNING id INTO person;
    UPDATE bank.request SET args = args - 'national_id_hash' - 'national_id_encrypted' - 'phone_encrypted' - 'name' WHERE id = r.id;
    IF person IS NULL THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R3: a person with this national ID is already registered');
        RETURN;
    END IF;
    PERFORM jobs.enqueue('settlement.open_account', jsonb_build_object('id', person), 'settlement');
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('person_id', person));
END
$$;

-- R24: the import matches the feed's hashes to people's.
CREATE OR REPLACE FUNCTION bank.enrollment_import_registry(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    imported integer;
    unmatched integer;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.volunteer_beijing_registration (person_id, record_id, approved_on)
    SELECT p.id, f.record_id, f.approved_on
      FROM bank.volunteer_beijing_feed f JOIN bank.person p ON p.national_id_hash = f.national_id_hash
     WHERE f.real_name_verified AND f.approved_on IS NOT NULL
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS imported = ROW_COUNT;
    SELECT count(*) INTO unmatched FROM bank.volunteer_beijing_feed f
     WHERE NOT EXISTS (SELECT 1 FROM bank.person p WHERE p.national_id_hash = f.national_id_hash);
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('imported', imported, 'unmatched', unmatched));
END
$$;

-- The notification worker decrypts a person's number when it sends (its
-- session has the key; an SMS needs the number).
CREATE OR REPLACE FUNCTION bank.message_to_send(message_id bigint)
RETURNS TABLE (id bigint, template text, recipient_kind text, person_id bigint, agent_institution_id bigint,
               params jsonb, urgent boolean, created_at timestamptz, phone text, still_due boolean,
               settled_channels text[])
LANGUAGE sql STABLE AS $$
    SELECT m.id, m.template, m.recipient_kind, m.person_id, m.agent_institution_id, m.params, m.urgent, m.created_at,
           CASE WHEN m.recipient_kind = 'person' AND p.phone_encrypted IS NOT NULL THEN bank.personal_data_decrypt(p.phone_encrypted) END,
           m.service_id IS NULL OR EXISTS (SELECT 1 FROM bank.service s WHERE s.id = m.service_id AND s.status = 'booked'),
           ARRAY(SELECT DISTINCT a.channel FROM bank.delivery_attempt a
                  WHERE a.message_id = m.id
                    AND (a.outcome IN ('delivered', 'obsolete')
                         OR a.outcome = 'failed' AND a.started_at > coalesce(m.retried_at, '-infinity'))
                  ORDER BY 1)
      FROM bank.message m LEFT JOIN bank.person p ON p.id = m.person_id
     WHERE m.id = message_to_send.message_id
$$;

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

-- R23: a person's national ID and phone number, for a staff member who
-- names the purpose; the read is recorded in the same transaction.
CREATE FUNCTION api.read_personal_data(person_id bigint, staff text, purpose text)
RETURNS TABLE (national_id text, phone text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM bank.person_for('person_id', person_id);
    IF staff IS NULL OR length(btrim(staff)) NOT BETWEEN 1 AND 100 OR purpose IS NULL OR length(btrim(purpose)) NOT BETWEEN 1 AND 500 THEN
        PERFORM bank.refuse('purpose', 'R23', 'a read of personal data names the staff member and its purpose');
    END IF;
    INSERT INTO bank.personal_data_read (person_id, staff, purpose) VALUES (person_id, btrim(staff), btrim(purpose));
    RETURN QUERY SELECT bank.personal_data_decrypt(p.national_id_encrypted), bank.personal_data_decrypt(p.phone_encrypted)
                   FROM bank.person p WHERE p.id = person_id;
END
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA bank FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO timebank_api;
REVOKE EXECUTE ON FUNCTION api.read_personal_data(bigint, text, text) FROM timebank_api;
GRANT USAGE ON SCHEMA api TO timebank_personal_data_reader;
GRANT EXECUTE ON FUNCTION api.read_personal_data(bigint, text, text) TO timebank_personal_data_reader;
GRANT EXECUTE ON FUNCTION bank.personal_data_key(), bank.personal_data_decrypt(bytea) TO timebank_notification;
GRANT SELECT (id, phone_encrypted, agent_institution_id) ON bank.person TO timebank_notification;
GRANT SELECT (national_id_hash) ON bank.volunteer_beijing_feed TO timebank_registry;
