-- R26: an insurer's status callback (docs/insurer-api.yaml, ClaimStatus),
-- as the insurer sent it: its code (X-Timebank-Insurer), the body exactly as
-- sent, and the X-Timebank-Signature header (sha256= and the hex HMAC-SHA256
-- of the body under the insurer's secret). A bad signature changes nothing
-- and reads the same whatever the insurer (SQLSTATE 28000); a refusal names
-- its field (22023, bank.refuse); the same event twice is one change
-- (`duplicate`). Returns the claim's state after it. Called by the
-- insurance-claim worker's endpoint (POST /timebank/claims/status) and by
-- api.claim_status_callback.
CREATE OR REPLACE FUNCTION bank.insurer_callback(insurer text, body text, signature text)
RETURNS TABLE (state text, duplicate boolean)
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
    EXCEPTION WHEN data_exception THEN  -- not JSON, a number beyond numeric, a \u0000 in a string
        PERFORM bank.refuse('body', 'R26', 'the callback body is not JSON that PostgreSQL can hold');
    END;
    event_id := payload->>'event_id';
    IF event_id IS NULL OR length(event_id) NOT BETWEEN 1 AND 100 THEN
        PERFORM bank.refuse('event_id', 'R26', 'a callback names its own event id (1 to 100 characters), which makes it idempotent');
    END IF;
    -- A whole number within bigint, so that no cast below can fail unnamed.
    IF jsonb_typeof(payload->'claim_id') IS DISTINCT FROM 'number' OR payload->>'claim_id' !~ '^-?[0-9]{1,18}$' THEN
        PERFORM bank.refuse('claim_id', 'R26', 'a callback names the claim it is about');
    END IF;
    SELECT * INTO c FROM bank.accident_claim WHERE id = (payload->>'claim_id')::bigint FOR UPDATE;
    -- The insurer a claim was sent to, fixed when it was first sent (bank.claim_package):
    -- another insurer that lists the same organisation cannot take it over.
    IF c.id IS NULL OR c.insurer_code IS DISTINCT FROM i.code THEN
        PERFORM bank.refuse('claim_id', 'R26', 'no claim sent to this insurer has that id');
    END IF;
    -- What the contract's schema says of a body is checked before the event id is looked up: a
    -- body that breaks it is refused even under an event id already applied (schemathesis sent
    -- an unknown status under a seen id and was answered 200, duplicate).
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
    IF new_state IN ('approved', 'paid') AND (jsonb_typeof(payload->'amount') IS DISTINCT FROM 'number'
           OR (payload->>'amount')::numeric <= 0 OR (payload->>'amount')::numeric >= 1e10
           OR (payload->>'amount')::numeric <> round((payload->>'amount')::numeric, 2)) THEN
        -- bank.accident_claim.approved_amount is numeric(12, 2): more than ten digits is above any ceiling anyway.
        PERFORM bank.refuse('amount', 'R26', 'an approval or a payment states its amount in yuan (positive, to the fen)');
    END IF;
    IF new_state = 'rejected' AND coalesce(length(btrim(payload->>'reason')), 0) NOT BETWEEN 1 AND 1000 THEN
        PERFORM bank.refuse('reason', 'R26', 'a rejection gives its reason (1 to 1000 characters)');
    END IF;
    IF new_state = 'more_documents' AND jsonb_typeof(payload->'documents') IS DISTINCT FROM 'array' THEN
        PERFORM bank.refuse('documents', 'R26', 'a request for documents lists them');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.claim_event e WHERE e.claim_id = c.id AND e.insurer_event_id = event_id) THEN
        state := c.state; duplicate := true; RETURN NEXT; RETURN;  -- seen before: nothing changes
    END IF;
    IF NOT c.state = ANY (allowed_from) THEN
        PERFORM bank.refuse('status', 'R26', format('a claim that is %s cannot become %s', c.state, new_state));
    END IF;
    IF new_state IN ('approved', 'paid') THEN
        amount := (payload->>'amount')::numeric;
        IF new_state = 'approved' AND amount > bank.setting('claim_max_approved_yuan') THEN
            PERFORM bank.refuse('amount', 'R26', format('an approval is at most %s yuan a claim (claim_max_approved_yuan)',
                                                        bank.setting('claim_max_approved_yuan')));
        END IF;
        IF new_state = 'paid' AND amount > c.approved_amount THEN
            PERFORM bank.refuse('amount', 'R26', format('a payment is at most the approved %s yuan', c.approved_amount));
        END IF;
    END IF;
    UPDATE bank.accident_claim a
       SET state = new_state, insurer_code = i.code,
           approved_amount = CASE WHEN new_state = 'approved' THEN amount ELSE a.approved_amount END
     WHERE a.id = c.id;
    INSERT INTO bank.claim_event (claim_id, state, note, performed_by, amount, insurer_event_id)
    VALUES (c.id, new_state,
            left(coalesce(payload->>'reason', (SELECT string_agg(d, ', ') FROM jsonb_array_elements_text(payload->'documents') d)), 1000),
            'insurer:' || i.code, amount, event_id);
    state := new_state; duplicate := false; RETURN NEXT;
END
$$;


