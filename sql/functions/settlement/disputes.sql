-- settlement-worker (timebank_settlement): credits taken back by
-- correcting transfers, for R19 upheld reports and R22 confirmed fraud
-- (the dishonest list).

-- R19, R22: takes back a service's credit by a correcting transfer (as
-- much as the volunteer still has; the rest is a debt), recorded as an
-- upheld report. Returns the minutes taken back.
CREATE OR REPLACE FUNCTION bank.reverse_service_credit(service bigint, request bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    credit bank.transfer;
    elder_account bigint;
    back bigint := 0;
BEGIN
    SELECT * INTO credit FROM bank.transfer t WHERE t.service_id = service AND t.kind = 'service_credit';
    IF credit.id IS NOT NULL THEN
        SELECT h.debit_account_id INTO elder_account FROM bank.service s JOIN bank.transfer h ON h.id = s.hold_transfer_id WHERE s.id = service;
        PERFORM 1 FROM bank.account WHERE id = credit.credit_account_id FOR NO KEY UPDATE;
        SELECT least(credit.amount, greatest(0, a.credits_posted - a.debits_posted - a.debits_pending)) INTO back
          FROM bank.account a WHERE a.id = credit.credit_account_id;
        IF back > 0 THEN
            INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, service_id, request_id)
            VALUES ('reverse:' || service, 'posted', 'service_reversal', credit.credit_account_id, elder_account, back, service, request)
            ON CONFLICT (idempotency_key) DO NOTHING;
        END IF;
    END IF;
    RETURN back;
END
$$;

-- settlement.confirm_fraud: the dishonest list, the account suspended for
-- good, the alert confirmed, the fraudulent services' coins taken back.
CREATE OR REPLACE FUNCTION bank.settlement_confirm_fraud(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['confirm_fraud']);
    person bigint;
    service bigint;
    back bigint;
    total bigint := 0;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    person := (r.args->>'person_id')::bigint;
    INSERT INTO bank.dishonest_person (person_id, reason, decided_by, alert_id, request_id)
    VALUES (person, r.args->>'reason', r.args->>'supervisor', (r.args->>'alert_id')::bigint, r.id)
    ON CONFLICT (person_id) DO NOTHING;
    UPDATE bank.person p SET status = 'suspended', status_reason = 'R22: on the dishonest list', status_request_id = r.id
     WHERE p.id = person AND p.status = 'active';
    UPDATE bank.alert a SET status = 'confirmed', decided_at = now(), decided_by = r.args->>'supervisor',
                            decision_reason = r.args->>'reason', updated_at = now()
     WHERE a.id = (r.args->>'alert_id')::bigint AND a.status = 'open';
    FOR service IN SELECT (jsonb_array_elements_text(r.args->'services'))::bigint LOOP
        INSERT INTO bank.service_dispute (service_id, reason, request_id) VALUES (service, 'R22: fraud confirmed: ' || (r.args->>'reason'), r.id)
        ON CONFLICT (service_id) DO NOTHING;
        CONTINUE WHEN EXISTS (SELECT 1 FROM bank.service_dispute d WHERE d.service_id = service AND d.decided_at IS NOT NULL);
        back := bank.reverse_service_credit(service, r.id);
        UPDATE bank.service_dispute d
           SET decided_at = now(), decided_by = r.args->>'supervisor', upheld = true, decision_note = 'R22: fraud confirmed',
               reversed_minutes = back,
               debt_minutes = coalesce((SELECT t.amount FROM bank.transfer t WHERE t.service_id = service AND t.kind = 'service_credit'), 0) - back
         WHERE d.service_id = service;
        total := total + back;
    END LOOP;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('person_id', person, 'reversed_minutes', total));
END
$$;

-- R19: staff's decision. Upheld: the volunteer pays back what the service
-- credited, as far as the available balance allows (L6), and the rest is
-- recorded as a debt; the credit is taken back through the same function
-- as R22's (bank.reverse_service_credit).
CREATE OR REPLACE FUNCTION bank.settlement_decide_dispute(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['decide_report']);
    d bank.service_dispute;
    back bigint := 0;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    SELECT * INTO d FROM bank.service_dispute WHERE service_id = (r.args->>'service_id')::bigint FOR UPDATE;
    IF d.decided_at IS NOT NULL THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R19: the report is already decided');
        RETURN;
    END IF;
    IF (r.args->>'upheld')::boolean THEN
        back := bank.reverse_service_credit(d.service_id, r.id);
        UPDATE bank.service_dispute
           SET decided_at = now(), decided_by = r.args->>'staff', upheld = true, decision_note = r.args->>'note',
               reversed_minutes = back,
               debt_minutes = coalesce((SELECT t.amount FROM bank.transfer t WHERE t.service_id = d.service_id AND t.kind = 'service_credit'), 0) - back
         WHERE service_id = d.service_id;
    ELSE
        UPDATE bank.service_dispute
           SET decided_at = now(), decided_by = r.args->>'staff', upheld = false, decision_note = r.args->>'note'
         WHERE service_id = d.service_id;
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', d.service_id, 'reversed_minutes', back));
END
$$;
