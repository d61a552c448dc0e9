-- 0025: R23's keys are the database's, out of every client's reach (issue
-- 15, findings 3 and 4). Until now each session brought the personal-data
-- key (the setting timebank.pii_key): a client that set its own key made a
-- different hash of a national ID already registered, and so registered
-- the same person twice (R3); and every process that hashed or encrypted
-- could also decrypt.
--
-- Now the key that makes R3's hash and the key that encrypts national IDs
-- and phone numbers are kept in bank.personal_data_key, which no role but
-- the owner reads; only the owner's SECURITY DEFINER functions use them:
-- the api hashes and encrypts what it records, and decrypts only in two
-- audited places (api.read_personal_data after a committed
-- api.record_personal_data_read; bank.message_to_send after a committed
-- bank.release_phone). No session's setting is read any more.
--
-- A database that already holds personal data keeps the key it was
-- written with: migrate it once with that key in TIMEBANK_PII_KEY (as the
-- earlier releases ran), and both keys become that key. A new database
-- gets two random ones. docs/runbook.md says how to rotate them.

CREATE TABLE bank.personal_data_key (
    only_one       boolean PRIMARY KEY DEFAULT true CONSTRAINT personal_data_key_single CHECK (only_one),
    -- R3: the HMAC-SHA256 key of national IDs' hashes (uniqueness, look-up).
    hash_key       text NOT NULL CONSTRAINT personal_data_hash_key_long CHECK (length(hash_key) >= 32),
    -- R23: the key (pgp_sym_encrypt, AES-256) of national IDs and phone numbers.
    encryption_key text NOT NULL CONSTRAINT personal_data_encryption_key_long CHECK (length(encryption_key) >= 32),
    -- When the encryption key last changed (bank.rotate_personal_data_key).
    rotated_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bank.personal_data_key IS
    'R3, R23: the keys of national IDs'' hashes and of the encryption of IDs and phone numbers. Read by the owner''s functions alone; no role is granted it. 个人信息密钥';
REVOKE ALL ON bank.personal_data_key FROM PUBLIC;

DO $keys$
DECLARE
    earlier text := nullif(current_setting('timebank.pii_key', true), '');
BEGIN
    IF EXISTS (SELECT 1 FROM bank.person) OR EXISTS (SELECT 1 FROM bank.volunteer_beijing_feed)
       OR EXISTS (SELECT 1 FROM bank.request WHERE kind = 'register_person' AND status = 'pending') THEN
        IF earlier IS NULL OR length(earlier) < 32 THEN
            RAISE EXCEPTION 'R23: this database holds personal data under the key of an earlier release: migrate it once with that key in TIMEBANK_PII_KEY (docs/runbook.md, "Personal-data keys")'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        INSERT INTO bank.personal_data_key (hash_key, encryption_key) VALUES (earlier, earlier);
    ELSE
        INSERT INTO bank.personal_data_key (hash_key, encryption_key)
        VALUES (encode(public.gen_random_bytes(32), 'hex'), encode(public.gen_random_bytes(32), 'hex'));
    END IF;
END
$keys$;

-- Every decryption is a row here, committed before the data is shown:
-- staff's reads (api.record_personal_data_read) and the notification
-- worker's release of a phone number for one message (bank.release_phone).
ALTER TABLE bank.personal_data_read
    -- The message whose delivery needed the phone number (the notification worker's reads).
    ADD COLUMN message_id bigint REFERENCES bank.message;
-- One release per message, however often its delivery is retried.
CREATE UNIQUE INDEX personal_data_read_one_per_message ON bank.personal_data_read (message_id) WHERE message_id IS NOT NULL;
COMMENT ON COLUMN bank.personal_data_read.message_id IS 'The message whose delivery needed the phone number (the notification worker), or NULL for a staff member''s read.';

-- The session's key is gone (the three functions that read it through
-- SQL-standard bodies go first; sql/functions/bank/personal_data.sql
-- defines them again); a staff read is recorded, then shown.
DROP FUNCTION IF EXISTS bank.personal_data_hash(text), bank.personal_data_encrypt(text), bank.personal_data_decrypt(bytea);
DROP FUNCTION IF EXISTS bank.personal_data_key();
DROP FUNCTION IF EXISTS api.read_personal_data(bigint, text, text);

-- The ciphertext is the owner's alone to read (finding 4: the enrollment
-- role selected every encrypted ID): the enrollment worker's steps run as
-- the owner, and the notification worker gets a number only through
-- bank.message_to_send.
REVOKE SELECT ON bank.person FROM timebank_enrollment;
REVOKE SELECT (phone_encrypted) ON bank.person FROM timebank_notification;
