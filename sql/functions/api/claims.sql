-- api: accident claims (R26) as the volunteer and the insurer see them:
-- the report, the insurer's signed status callback, a claim's history.
-- Client applications (timebank_api) call them; insurers' callbacks
-- arrive through them.

-- R26, R5: the volunteer (or the agent institution acting for the
-- volunteer) reports an accident during a service.
CREATE OR REPLACE FUNCTION api.report_accident(
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

-- R26: an insurer's status callback (docs/insurer-api.yaml, ClaimStatus),
-- as the gateway received it: the insurer's code, the body exactly as
-- sent, and the X-Timebank-Signature header (hex HMAC-SHA256 of the body).
-- A bad signature changes nothing; the same event twice is one change.
-- Returns the claim's state after it.
CREATE OR REPLACE FUNCTION api.claim_status_callback(insurer text, body text, signature text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    i bank.insurer;
    payload jsonb;
    c bank.accident_claim;
    new_state text;
    event_id text;
    amount numeric;
    allowed_from text[];
BEGIN
    SELECT * INTO i FROM bank.insurer WHERE code = insurer;
    -- The contract's one form (docs/insurer-api.yaml): sha256= and the hex HMAC-SHA256 of the body.
    IF i.code IS NULL OR signature IS NULL OR body IS NULL OR signature !~ '^sha256=[0-9A-Fa-f]{64}$'
       OR lower(substr(signature, 8)) <> encode(public.hmac(body, i.secret, 'sha256'), 'hex') THEN
        -- The same answer for an unknown insurer and a wrong signature: nothing to probe.
        RAISE EXCEPTION 'R26: the callback''s signature is not sha256= and the body''s HMAC under the insurer''s shared secret'
            USING ERRCODE = 'invalid_authorization_specification', COLUMN = 'signature';
    END IF;
    BEGIN
        payload := body::jsonb;
    EXCEPTION WHEN invalid_text_representation THEN
        PERFORM bank.refuse('body', 'R26', 'the callback body is not JSON');
    END;
    event_id := payload->>'event_id';
    IF event_id IS NULL OR length(event_id) NOT BETWEEN 1 AND 100 THEN
        PERFORM bank.refuse('event_id', 'R26', 'a callback names its own event id (1 to 100 characters), which makes it idempotent');
    END IF;
    IF jsonb_typeof(payload->'claim_id') IS DISTINCT FROM 'number' THEN
        PERFORM bank.refuse('claim_id', 'R26', 'a callback names the claim it is about');
    END IF;
    SELECT * INTO c FROM bank.accident_claim WHERE id = (payload->>'claim_id')::bigint FOR UPDATE;
    -- The insurer a claim was sent to, fixed when it was first sent (bank.claim_package):
    -- another insurer that lists the same organisation cannot take it over.
    IF c.id IS NULL OR c.insurer_code IS DISTINCT FROM i.code THEN
        PERFORM bank.refuse('claim_id', 'R26', 'no claim sent to this insurer has that id');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.claim_event e WHERE e.claim_id = c.id AND e.insurer_event_id = event_id) THEN
        RETURN c.state;  -- seen before: nothing changes
    END IF;
    new_state := payload->>'status';
    allowed_from := CASE new_state
        WHEN 'received' THEN ARRAY['validated', 'sent']
        WHEN 'more_documents' THEN ARRAY['validated', 'sent', 'received', 'more_documents']
        WHEN 'approved' THEN ARRAY['validated', 'sent', 'received', 'more_documents']
        WHEN 'rejected' THEN ARRAY['validated', 'sent', 'received', 'more_documents']
        WHEN 'paid' THEN ARRAY['approved'] END;
    IF allowed_from IS NULL THEN
        PERFORM bank.refuse('status', 'R26', 'a status is one of received, more_documents, approved, rejected, paid');
    END IF;
    IF NOT c.state = ANY (allowed_from) THEN
        PERFORM bank.refuse('status', 'R26', format('a claim that is %s cannot become %s', c.state, new_state));
    END IF;
    IF new_state IN ('approved', 'paid') THEN
        IF jsonb_typeof(payload->'amount') IS DISTINCT FROM 'number' OR (payload->>'amount')::numeric <= 0
           OR (payload->>'amount')::numeric <> round((payload->>'amount')::numeric, 2) THEN
            PERFORM bank.refuse('amount', 'R26', 'an approval or a payment states its amount in yuan (positive, to the fen)');
        END IF;
        amount := (payload->>'amount')::numeric;
        IF new_state = 'approved' AND amount > bank.setting('claim_max_approved_yuan') THEN
            PERFORM bank.refuse('amount', 'R26', format('an approval is at most %s yuan a claim (claim_max_approved_yuan)',
                                                        bank.setting('claim_max_approved_yuan')));
        END IF;
        IF new_state = 'paid' AND amount > c.approved_amount THEN
            PERFORM bank.refuse('amount', 'R26', format('a payment is at most the approved %s yuan', c.approved_amount));
        END IF;
    END IF;
    IF new_state = 'rejected' AND coalesce(length(btrim(payload->>'reason')), 0) NOT BETWEEN 1 AND 1000 THEN
        PERFORM bank.refuse('reason', 'R26', 'a rejection gives its reason (1 to 1000 characters)');
    END IF;
    IF new_state = 'more_documents' AND jsonb_typeof(payload->'documents') IS DISTINCT FROM 'array' THEN
        PERFORM bank.refuse('documents', 'R26', 'a request for documents lists them');
    END IF;
    UPDATE bank.accident_claim a
       SET state = new_state, insurer_code = i.code,
           approved_amount = CASE WHEN new_state = 'approved' THEN amount ELSE a.approved_amount END
     WHERE a.id = c.id;
    INSERT INTO bank.claim_event (claim_id, state, note, performed_by, amount, insurer_event_id)
    VALUES (c.id, new_state,
            left(coalesce(payload->>'reason', (SELECT string_agg(d, ', ') FROM jsonb_array_elements_text(payload->'documents') d)), 1000),
            'insurer:' || i.code, amount, event_id);
    RETURN new_state;
END
$$;

-- A claim as its volunteer sees it, with its history; each change that no
-- client request made names the worker, insurer or operator that made it.
CREATE OR REPLACE FUNCTION api.claim_history(claim_id bigint)
RETURNS TABLE (state text, note text, at timestamptz, performed_by text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT e.state, e.note, e.at,
           CASE WHEN e.request_id IS NULL THEN coalesce(e.performed_by, 'system')
                WHEN r.agent_institution_id IS NOT NULL THEN 'agent ' || r.agent_institution_id || ' staff ' || r.agent_staff
                ELSE 'person' END
      FROM bank.claim_event e LEFT JOIN bank.request r ON r.id = e.request_id
     WHERE e.claim_id = claim_history.claim_id
     ORDER BY e.id
$$;
