-- 0016: the reporting schema (issue 8): documented views analysts use
-- with plain SQL, without personal data.
--
-- Every view and column is commented in Chinese and English (\d+ in psql
-- shows them). People appear as stable pseudonyms (an HMAC of the person's
-- id under a key kept in bank.pseudonym_key, which the analyst role cannot
-- read), ages as bands, places as districts: no view exposes a national
-- ID, name, phone number or address. Views read the base tables with
-- their owner's rights; timebank_analyst is granted the views and nothing
-- else. Stable names: a view's columns are only added to; one removed or
-- retyped needs a numbered migration that drops the view and says so (the
-- views are in sql/views/reporting.sql; see sql/README.md).

-- The pseudonyms' key: random, made once, never shown to analysts.
CREATE TABLE bank.pseudonym_key (
    only_one boolean PRIMARY KEY DEFAULT true CONSTRAINT pseudonym_key_single CHECK (only_one),
    key      bytea NOT NULL CONSTRAINT pseudonym_key_long CHECK (length(key) >= 32)
);
COMMENT ON TABLE bank.pseudonym_key IS 'The key of reporting''s pseudonyms (HMAC-SHA256 of a person''s id). Analysts never read it. 化名密钥';
INSERT INTO bank.pseudonym_key (key) VALUES (public.gen_random_bytes(32));