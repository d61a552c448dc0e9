-- 0013: R26, accident claims, first part: reports and their validation
-- against the service record by the insurance-claim worker. An insured
-- volunteer injured during a service the time bank published, whose
-- project, place and period are on record, claims through the insurer
-- (Volunteer Beijing's procedure for R24 volunteers, the organisation's
-- insurer for R25). A report that fails validation is refused with the
-- reason and recorded as refused. (Delivery to insurers and their status
-- callbacks come next.)

CREATE TABLE bank.accident_claim (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The report (api.report_accident) that opened it; a retried job finds it.
    request_id    bigint NOT NULL CONSTRAINT claim_one_per_request UNIQUE REFERENCES bank.request,
    service_id    bigint NOT NULL REFERENCES bank.service,
    volunteer_id  bigint NOT NULL REFERENCES bank.person,
    occurred_at   timestamptz NOT NULL,
    place         text NOT NULL CONSTRAINT claim_place_given CHECK (length(place) BETWEEN 1 AND 300),
    description   text NOT NULL CONSTRAINT claim_description_given CHECK (length(description) BETWEEN 1 AND 2000),
    -- Documents by reference (the document store's ids), never their content.
    documents     text[] NOT NULL DEFAULT '{}',
    -- reported -> validated | refused; later: sent, received, more_documents, approved, rejected, paid.
    state         text NOT NULL CONSTRAINT claim_state_known CHECK (state IN (
                      'validated', 'refused', 'sent', 'received', 'more_documents', 'approved', 'rejected', 'paid')),
    -- Why validation refused it, naming the rule.
    refusal       text,
    -- R24/R25: how the volunteer was insured on the day (bank.insured_on).
    insured_by    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT claim_refusal_explained CHECK ((state = 'refused') = (refusal IS NOT NULL)),
    CONSTRAINT claim_insured_unless_refused CHECK (state = 'refused' OR insured_by IS NOT NULL)
);
COMMENT ON TABLE bank.accident_claim IS 'R26: accident reports of volunteers during services, validated against the record. 意外理赔';
CREATE INDEX accident_claim_service_idx ON bank.accident_claim (service_id);

-- Every state a claim entered, when, and by which request (so who).
CREATE TABLE bank.claim_event (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    claim_id   bigint NOT NULL REFERENCES bank.accident_claim,
    state      text NOT NULL,
    note       text,
    request_id bigint REFERENCES bank.request,
    at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bank.claim_event IS 'R26: a claim''s history: each state, when, by which request. 理赔记录';
CREATE INDEX claim_event_claim_idx ON bank.claim_event (claim_id, id);

INSERT INTO bank.setting (name, value, description) VALUES
    ('claim_grace_minutes', 30, 'R26 (ours): how long before check-in or after check-out an accident still counts as during the service');
GRANT SELECT, UPDATE (status, result, refusal, finished_at, args) ON bank.request TO timebank_insurance_claim;
GRANT SELECT ON bank.setting TO timebank_insurance_claim;
GRANT SELECT (id, status, reviewed_at, volunteer_id, companion_id, checked_in_at, checked_out_at, starts_at, ends_at,
              district_code, category_code, item_id, description) ON bank.service TO timebank_insurance_claim;
GRANT SELECT, INSERT ON bank.accident_claim, bank.claim_event TO timebank_insurance_claim;