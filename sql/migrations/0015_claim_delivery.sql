-- 0015: R24-R26, second part: claims delivered to insurers, their status
-- callbacks, and the daily export of service records to Volunteer Beijing.
--
-- The contract with insurers is docs/insurer-api.yaml (OpenAPI). Each
-- insurer has an endpoint and a shared secret: we sign what we send with
-- it (HMAC-SHA256 of the body) and accept a status callback only when its
-- signature is the body's HMAC under the same secret. The secret is
-- readable by no worker role: SECURITY DEFINER functions
-- (sql/functions/insurance-claim/, api/claims.sql) sign and verify in the
-- database (pgcrypto's hmac()).

CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE bank.insurer (
    -- volunteer_beijing is R24's: Volunteer Beijing's claim procedure.
    code          text PRIMARY KEY CONSTRAINT insurer_code_form CHECK (code ~ '^[a-z0-9_]{2,40}$'),
    name          text NOT NULL CONSTRAINT insurer_named CHECK (length(name) BETWEEN 1 AND 200),
    -- R25: the volunteer organisations whose confirmed policies it insures
    -- (bank.insurance_policy.organisation).
    organisations text[] NOT NULL DEFAULT '{}',
    -- Where claims are POSTed.
    claims_url    text NOT NULL CONSTRAINT insurer_claims_url_http CHECK (claims_url ~ '^https?://'),
    -- R24: where the daily service records go (Volunteer Beijing only).
    export_url    text CONSTRAINT insurer_export_url_http CHECK (export_url ~ '^https?://'),
    -- The shared secret of both directions' signatures; long enough to
    -- resist guessing.
    secret        text NOT NULL CONSTRAINT insurer_secret_long CHECK (length(secret) >= 16),
    timeout_ms    integer NOT NULL DEFAULT 10000 CONSTRAINT insurer_timeout_sane CHECK (timeout_ms BETWEEN 100 AND 120000),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bank.insurer IS 'R24, R25: insurers and their endpoints and shared secrets (set with `timebank insurers set`). 保险机构';
COMMENT ON COLUMN bank.insurer.secret IS 'The HMAC-SHA256 key both ways; no worker role reads it.';
REVOKE ALL ON bank.insurer FROM PUBLIC;

-- undeliverable: the insurer refused the claim package itself (4xx);
-- supervisors are alerted and an operator may send it again.
ALTER TABLE bank.accident_claim DROP CONSTRAINT claim_state_known, ADD CONSTRAINT claim_state_known CHECK (state IN (
    'validated', 'refused', 'sent', 'received', 'more_documents', 'approved', 'rejected', 'paid', 'undeliverable'));
ALTER TABLE bank.accident_claim
    -- The insurer it went to.
    ADD COLUMN insurer_code text REFERENCES bank.insurer,
    -- When the supervisors were told the insurer stayed unreachable (once).
    ADD COLUMN unreachable_alerted_at timestamptz,
    -- R26: what the insurer approved and paid, in yuan.
    ADD COLUMN approved_amount numeric(12, 2) CONSTRAINT claim_amount_positive CHECK (approved_amount > 0);

ALTER TABLE bank.claim_event
    -- Who made the change when no client request did: the worker, an
    -- insurer (insurer:<code>), an operator.
    ADD COLUMN performed_by text,
    ADD COLUMN amount numeric(12, 2),
    -- The insurer's own id of a callback: the same callback twice is one change.
    ADD COLUMN insurer_event_id text,
    ADD CONSTRAINT claim_event_callback_once UNIQUE (claim_id, insurer_event_id);

-- Every attempt to send a claim package: when, how long, what the insurer answered.
CREATE TABLE bank.claim_delivery_attempt (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    claim_id     bigint NOT NULL REFERENCES bank.accident_claim,
    insurer_code text REFERENCES bank.insurer,
    started_at   timestamptz NOT NULL,
    latency_ms   integer NOT NULL CONSTRAINT claim_attempt_latency_counted CHECK (latency_ms >= 0),
    http_status  integer,
    -- sent (2xx); retry (timeout, 5xx, connection lost, no insurer
    -- configured yet); failed (4xx: the package was refused).
    outcome      text NOT NULL CONSTRAINT claim_attempt_outcome_known CHECK (outcome IN ('sent', 'retry', 'failed')),
    answer       text CONSTRAINT claim_attempt_answer_short CHECK (length(answer) <= 500),
    worker       text NOT NULL
);
COMMENT ON TABLE bank.claim_delivery_attempt IS 'R26: every attempt to send a claim to its insurer. 理赔投递记录';
CREATE INDEX claim_delivery_attempt_claim_idx ON bank.claim_delivery_attempt (claim_id, id);

INSERT INTO bank.setting (name, value, description) VALUES
    ('claim_unreachable_alert_minutes', 60, 'R26 (ours): how long an insurer may stay unreachable before the supervisors are alerted'),
    ('registry_export_chunk', 500, 'R24 (ours): service records per request of the daily export to Volunteer Beijing');

-- R24: what went to Volunteer Beijing, day by day, chunk by chunk: a day
-- interrupted resumes at its first unsent chunk, and a chunk sent twice
-- carries the same idempotency key (export:<day>:<chunk>).
CREATE TABLE bank.registry_export (
    day              date NOT NULL,
    chunk            integer NOT NULL CONSTRAINT export_chunk_counted CHECK (chunk >= 1),
    first_service_id bigint NOT NULL,
    last_service_id  bigint NOT NULL,
    records          integer NOT NULL CONSTRAINT export_records_counted CHECK (records >= 1),
    minutes          bigint NOT NULL,
    sent_at          timestamptz NOT NULL DEFAULT now(),
    http_status      integer NOT NULL,
    latency_ms       integer NOT NULL,
    PRIMARY KEY (day, chunk),
    CONSTRAINT export_chunk_ordered CHECK (first_service_id <= last_service_id)
);
COMMENT ON TABLE bank.registry_export IS 'R24: service records sent to Volunteer Beijing, per day and chunk. 志愿北京数据共享记录';
GRANT SELECT ON bank.claim_delivery_attempt, bank.registry_export TO timebank_insurance_claim;