-- bank: personal data (R23). National IDs and phone numbers are encrypted
-- (pgcrypto, AES-256) with the session's key, and hashed (HMAC-SHA256)
-- for uniqueness and look-up; the key is never stored (see
-- sql/migrations/0018_personal_data.sql).

-- The session's key, or a refusal naming the rule.
CREATE OR REPLACE FUNCTION bank.personal_data_key() RETURNS text
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
CREATE OR REPLACE FUNCTION bank.personal_data_hash(value text) RETURNS bytea
LANGUAGE sql STABLE
RETURN CASE WHEN value IS NULL THEN NULL ELSE public.hmac(convert_to(value, 'UTF8'), convert_to(bank.personal_data_key(), 'UTF8'), 'sha256') END;

CREATE OR REPLACE FUNCTION bank.personal_data_encrypt(value text) RETURNS bytea
LANGUAGE sql VOLATILE
RETURN CASE WHEN value IS NULL THEN NULL ELSE public.pgp_sym_encrypt(value, bank.personal_data_key(), 'cipher-algo=aes256') END;

CREATE OR REPLACE FUNCTION bank.personal_data_decrypt(value bytea) RETURNS text
LANGUAGE sql STABLE
RETURN CASE WHEN value IS NULL THEN NULL ELSE public.pgp_sym_decrypt(value, bank.personal_data_key()) END;

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
