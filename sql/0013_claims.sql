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

-- R26: validates a report against the record and records the claim,
-- validated or refused with the first reason found.
CREATE FUNCTION bank.claims_validate(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    s record;
    volunteer bigint;
    occurred timestamptz;
    grace interval := bank.setting('claim_grace_minutes') * interval '1 minute';
    insured text;
    reason text;
    claim bigint;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    volunteer := (r.args->>'volunteer_id')::bigint;
    occurred := (r.args->>'occurred_at')::timestamptz;
    SELECT sv.id, sv.status, sv.reviewed_at, sv.volunteer_id, sv.companion_id, sv.checked_in_at, sv.checked_out_at INTO s
      FROM bank.service sv WHERE sv.id = (r.args->>'service_id')::bigint;
    insured := bank.insured_on(volunteer, (occurred AT TIME ZONE 'Asia/Shanghai')::date);
    reason := CASE
        WHEN s.reviewed_at IS NULL OR s.status IN ('awaiting_review', 'rejected')
            THEN 'R26: the service was not published by the time bank'
        WHEN s.volunteer_id IS DISTINCT FROM volunteer AND s.companion_id IS DISTINCT FROM volunteer
            THEN 'R26: the volunteer was not booked on the service'
        WHEN s.checked_in_at IS NULL
            THEN 'R26: the volunteer never checked in'
        WHEN occurred < s.checked_in_at - grace OR occurred > coalesce(s.checked_out_at, now()) + grace
            THEN 'R26: the accident time lies outside the service period'
        WHEN insured IS NULL
            THEN 'R24, R25: the volunteer was not insured on that day'
        END;
    INSERT INTO bank.accident_claim (request_id, service_id, volunteer_id, occurred_at, place, description, documents,
                                     state, refusal, insured_by)
    VALUES (r.id, s.id, volunteer, occurred, r.args->>'place', r.args->>'description',
            ARRAY(SELECT jsonb_array_elements_text(r.args->'documents')),
            CASE WHEN reason IS NULL THEN 'validated' ELSE 'refused' END, reason, CASE WHEN reason IS NULL THEN insured END)
    RETURNING id INTO claim;
    INSERT INTO bank.claim_event (claim_id, state, note, request_id)
    VALUES (claim, CASE WHEN reason IS NULL THEN 'validated' ELSE 'refused' END, reason, r.id);
    IF reason IS NULL THEN
        PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('claim_id', claim));
    ELSE
        PERFORM bank.finish_request(r.id, 'refused', jsonb_build_object('claim_id', claim), reason);
    END IF;
END
$$;

-- R26, R5: the volunteer (or the agent institution acting for the
-- volunteer) reports an accident during a service.
CREATE FUNCTION api.report_accident(
    service_id bigint, volunteer_id bigint, occurred_at timestamptz, place text, description text, documents text[] DEFAULT '{}'
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.service_for(service_id);
    PERFORM bank.person_for('volunteer_id', volunteer_id);
    IF occurred_at IS NULL OR occurred_at > now() THEN
        PERFORM bank.refuse('occurred_at', 'R26', 'an accident is reported after it happened');
    END IF;
    IF place IS NULL OR length(btrim(place)) NOT BETWEEN 1 AND 300 THEN
        PERFORM bank.refuse('place', 'R26', 'a report says where it happened (1 to 300 characters)');
    END IF;
    IF description IS NULL OR length(btrim(description)) NOT BETWEEN 1 AND 2000 THEN
        PERFORM bank.refuse('description', 'R26', 'a report says what happened (1 to 2000 characters)');
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(documents) d WHERE d IS NULL OR length(btrim(d)) NOT BETWEEN 1 AND 200) THEN
        PERFORM bank.refuse('documents', 'R26', 'documents are given by reference: 1 to 200 characters each');
    END IF;
    RETURN bank.submit('report_accident',
        jsonb_build_object('service_id', service_id, 'volunteer_id', volunteer_id, 'occurred_at', occurred_at,
                           'place', btrim(place), 'description', btrim(description), 'documents', to_jsonb(coalesce(documents, '{}'))),
        'claims.validate', 'claims');
END
$$;

-- A claim as its volunteer sees it, with its history.
CREATE FUNCTION api.claim_history(claim_id bigint)
RETURNS TABLE (state text, note text, at timestamptz, performed_by text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT e.state, e.note, e.at,
           CASE WHEN e.request_id IS NULL THEN 'system'
                WHEN r.agent_institution_id IS NOT NULL THEN 'agent ' || r.agent_institution_id || ' staff ' || r.agent_staff
                ELSE 'person' END
      FROM bank.claim_event e LEFT JOIN bank.request r ON r.id = e.request_id
     WHERE e.claim_id = claim_history.claim_id
     ORDER BY e.id
$$;

INSERT INTO bank.setting (name, value, description) VALUES
    ('claim_grace_minutes', 30, 'R26 (ours): how long before check-in or after check-out an accident still counts as during the service');

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA bank FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO timebank_api;
GRANT EXECUTE ON FUNCTION bank.claims_validate(bigint), bank.setting(text), bank.pending_request(bigint),
    bank.finish_request(bigint, text, jsonb, text) TO timebank_insurance_claim;
GRANT SELECT, UPDATE (status, result, refusal, finished_at, args) ON bank.request TO timebank_insurance_claim;
GRANT SELECT ON bank.setting TO timebank_insurance_claim;
GRANT SELECT (id, status, reviewed_at, volunteer_id, companion_id, checked_in_at, checked_out_at, starts_at, ends_at,
              district_code, category_code, item_id, description) ON bank.service TO timebank_insurance_claim;
GRANT SELECT, INSERT ON bank.accident_claim, bank.claim_event TO timebank_insurance_claim;
