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

-- R26: an insurer's status callback (docs/insurer-api.yaml, ClaimStatus)
-- from a gateway of the operator's own: the insurer's code, the body
-- exactly as sent, and the X-Timebank-Signature header. The insurance-claim
-- worker serves the documented endpoint itself (`--http-port`); both apply
-- the callback through bank.insurer_callback. Returns the claim's state
-- after it.
CREATE OR REPLACE FUNCTION api.claim_status_callback(insurer text, body text, signature text) RETURNS text
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.state FROM bank.insurer_callback(insurer, body, signature) c
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
