-- bank: personal data (R23). National IDs and phone numbers are encrypted
-- (pgcrypto, AES-256) and IDs hashed (HMAC-SHA256) for uniqueness and
-- look-up, with the keys of bank.personal_data_key (sql/migrations/0025),
-- which only the owner reads: these functions work only inside the owner's
-- SECURITY DEFINER functions, and no role executes them directly. No key
-- comes from a session (issue 15, finding 3).

-- Equal values give equal hashes under one key: uniqueness and look-up
-- without the value.
CREATE OR REPLACE FUNCTION bank.personal_data_hash(value text) RETURNS bytea
LANGUAGE sql STABLE
RETURN CASE WHEN value IS NULL THEN NULL
            ELSE public.hmac(convert_to(value, 'UTF8'), convert_to((SELECT k.hash_key FROM bank.personal_data_key k), 'UTF8'), 'sha256') END;

CREATE OR REPLACE FUNCTION bank.personal_data_encrypt(value text) RETURNS bytea
LANGUAGE sql VOLATILE
RETURN CASE WHEN value IS NULL THEN NULL
            ELSE public.pgp_sym_encrypt(value, (SELECT k.encryption_key FROM bank.personal_data_key k), 'cipher-algo=aes256') END;

-- Called only where a committed bank.personal_data_read row allows it
-- (api.read_personal_data, bank.message_to_send).
CREATE OR REPLACE FUNCTION bank.personal_data_decrypt(value bytea) RETURNS text
LANGUAGE sql STABLE
RETURN CASE WHEN value IS NULL THEN NULL
            ELSE public.pgp_sym_decrypt(value, (SELECT k.encryption_key FROM bank.personal_data_key k)) END;

-- R23: a new encryption key, every national ID and phone number (and those
-- of registrations still pending) re-encrypted with it, in one
-- transaction. For a DBA (a member of timebank_owner); no application
-- role executes it. The hash key is not rotated here: the registry's feed
-- keeps hashes only (docs/runbook.md).
CREATE OR REPLACE FUNCTION bank.rotate_personal_data_key() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    earlier text := (SELECT k.encryption_key FROM bank.personal_data_key k FOR UPDATE);
    later text := encode(public.gen_random_bytes(32), 'hex');
    people integer;
BEGIN
    UPDATE bank.person
       SET national_id_encrypted = public.pgp_sym_encrypt(public.pgp_sym_decrypt(national_id_encrypted, earlier), later, 'cipher-algo=aes256'),
           phone_encrypted = CASE WHEN phone_encrypted IS NOT NULL
                                  THEN public.pgp_sym_encrypt(public.pgp_sym_decrypt(phone_encrypted, earlier), later, 'cipher-algo=aes256') END;
    GET DIAGNOSTICS people = ROW_COUNT;
    UPDATE bank.personal_data_key SET encryption_key = later, rotated_at = now();
    RETURN people;
END
$$;

CREATE OR REPLACE FUNCTION bank.hash_feed_national_id() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.national_id IS NOT NULL THEN
        NEW.national_id_hash := bank.personal_data_hash(NEW.national_id);
        NEW.national_id := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER feed_national_id_hashed BEFORE INSERT OR UPDATE ON bank.volunteer_beijing_feed
    FOR EACH ROW EXECUTE FUNCTION bank.hash_feed_national_id();
