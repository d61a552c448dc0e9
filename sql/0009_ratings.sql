-- 0009: R19, ratings and reports that a service was not given. After
-- check-out the elder (or the agent institution acting for the elder, R5)
-- rates the service once; within a configured number of days the elder
-- may report that it was not given. Staff decide; an upheld report
-- reverses the settlement with a correcting transfer from the volunteer
-- back to the elder (transfers are never edited), as far as the
-- volunteer's available coins allow, and records the rest as a debt.

CREATE TABLE bank.service_rating (
    service_id bigint PRIMARY KEY REFERENCES bank.service,
    -- R19: satisfaction, 1 (poor) to 5 (excellent).
    score      smallint NOT NULL CONSTRAINT rating_score_range CHECK (score BETWEEN 1 AND 5),
    comment    text CONSTRAINT rating_comment_length CHECK (length(comment) <= 500),
    rated_at   timestamptz NOT NULL DEFAULT now(),
    request_id bigint NOT NULL REFERENCES bank.request
);
COMMENT ON TABLE bank.service_rating IS 'R19: the elder''s (or agent''s) satisfaction with a service, once per service. 服务评价';

-- Each volunteer's and each district's figures.
CREATE VIEW bank.volunteer_rating AS
SELECT s.volunteer_id, count(*) AS ratings, round(avg(r.score), 2) AS average_score
  FROM bank.service_rating r JOIN bank.service s ON s.id = r.service_id
 GROUP BY s.volunteer_id;
COMMENT ON VIEW bank.volunteer_rating IS 'R19: ratings per volunteer.';
CREATE VIEW bank.district_rating AS
SELECT s.district_code, count(*) AS ratings, round(avg(r.score), 2) AS average_score
  FROM bank.service_rating r JOIN bank.service s ON s.id = r.service_id
 GROUP BY s.district_code;
COMMENT ON VIEW bank.district_rating IS 'R19: ratings per district.';

CREATE TABLE bank.service_dispute (
    service_id       bigint PRIMARY KEY REFERENCES bank.service,
    reason           text NOT NULL CONSTRAINT dispute_reason_given CHECK (length(reason) BETWEEN 1 AND 500),
    reported_at      timestamptz NOT NULL DEFAULT now(),
    request_id       bigint NOT NULL REFERENCES bank.request,
    -- Staff's decision (written by the settlement worker, which reverses).
    decided_at       timestamptz,
    decided_by       text,
    upheld           boolean,
    decision_note    text,
    reversed_minutes bigint,
    -- What the volunteer could not pay back: owed to the elder.
    debt_minutes     bigint,
    CONSTRAINT dispute_decision_complete CHECK (
        (decided_at IS NULL) = (upheld IS NULL) AND (decided_at IS NULL) = (decided_by IS NULL)
        AND (upheld IS DISTINCT FROM true OR (reversed_minutes >= 0 AND debt_minutes >= 0)))
);
COMMENT ON TABLE bank.service_dispute IS 'R19: reports that a service was not given, and staff''s decisions; an upheld one is reversed by a correcting transfer. 服务未提供申诉';

CREATE FUNCTION bank.order_rate(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.service_rating (service_id, score, comment, request_id)
    VALUES ((r.args->>'service_id')::bigint, (r.args->>'score')::smallint, r.args->>'comment', r.id)
    ON CONFLICT (service_id) DO NOTHING;
    IF NOT FOUND THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R19: the service is already rated');
        RETURN;
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', (r.args->>'service_id')::bigint));
END
$$;

CREATE FUNCTION bank.order_report_not_given(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.service_dispute (service_id, reason, request_id)
    VALUES ((r.args->>'service_id')::bigint, r.args->>'reason', r.id)
    ON CONFLICT (service_id) DO NOTHING;
    IF NOT FOUND THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R19: the service is already reported');
        RETURN;
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', (r.args->>'service_id')::bigint));
END
$$;

-- R19: staff's decision. Upheld: the volunteer pays back what the
-- service credited, as far as the available balance allows (L6), and the
-- rest is recorded as a debt.
CREATE FUNCTION bank.settlement_decide_dispute(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    d bank.service_dispute;
    credit bank.transfer;
    elder_account bigint;
    back bigint := 0;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    SELECT * INTO d FROM bank.service_dispute WHERE service_id = (r.args->>'service_id')::bigint FOR UPDATE;
    IF d.decided_at IS NOT NULL THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R19: the report is already decided');
        RETURN;
    END IF;
    IF (r.args->>'upheld')::boolean THEN
        SELECT * INTO credit FROM bank.transfer WHERE service_id = d.service_id AND kind = 'service_credit';
        IF credit.id IS NOT NULL THEN
            SELECT h.debit_account_id INTO elder_account FROM bank.service s JOIN bank.transfer h ON h.id = s.hold_transfer_id
             WHERE s.id = d.service_id;
            PERFORM 1 FROM bank.account WHERE id = credit.credit_account_id FOR NO KEY UPDATE;
            SELECT least(credit.amount, greatest(0, a.credits_posted - a.debits_posted - a.debits_pending)) INTO back
              FROM bank.account a WHERE a.id = credit.credit_account_id;
            IF back > 0 THEN
                INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, service_id, request_id)
                VALUES ('reverse:' || d.service_id, 'posted', 'service_reversal', credit.credit_account_id, elder_account, back, d.service_id, r.id);
            END IF;
        END IF;
        UPDATE bank.service_dispute
           SET decided_at = now(), decided_by = r.args->>'staff', upheld = true, decision_note = r.args->>'note',
               reversed_minutes = back, debt_minutes = coalesce(credit.amount, 0) - back
         WHERE service_id = d.service_id;
    ELSE
        UPDATE bank.service_dispute
           SET decided_at = now(), decided_by = r.args->>'staff', upheld = false, decision_note = r.args->>'note'
         WHERE service_id = d.service_id;
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('service_id', d.service_id, 'reversed_minutes', back));
END
$$;

CREATE FUNCTION api.rate_service(service_id bigint, elder_id bigint, score integer, comment text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    IF s.elder_id IS DISTINCT FROM elder_id THEN
        PERFORM bank.refuse('elder_id', 'R19', 'the elder served (or the agent for the elder) rates the service');
    END IF;
    IF s.status <> 'checked_out' THEN
        PERFORM bank.refuse('service_id', 'R19', 'a service is rated after check-out');
    END IF;
    IF score IS NULL OR score NOT BETWEEN 1 AND 5 THEN
        PERFORM bank.refuse('score', 'R19', 'a rating is 1 to 5');
    END IF;
    IF length(comment) > 500 THEN
        PERFORM bank.refuse('comment', 'R19', 'a comment is at most 500 characters');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.service_rating x WHERE x.service_id = rate_service.service_id) THEN
        PERFORM bank.refuse('service_id', 'R19', 'the service is already rated');
    END IF;
    RETURN bank.submit('rate_service', jsonb_build_object('service_id', service_id, 'elder_id', elder_id, 'score', score, 'comment', comment),
        'order.rate', 'order');
END
$$;

CREATE FUNCTION api.report_not_given(service_id bigint, elder_id bigint, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    IF s.elder_id IS DISTINCT FROM elder_id THEN
        PERFORM bank.refuse('elder_id', 'R19', 'the elder served (or the agent for the elder) reports the service');
    END IF;
    IF s.status <> 'checked_out' THEN
        PERFORM bank.refuse('service_id', 'R19', 'only a checked-out service can be reported as not given');
    END IF;
    IF now() > s.checked_out_at + bank.setting('dispute_window_days') * interval '1 day' THEN
        PERFORM bank.refuse('service_id', 'R19', 'a report comes within ' || bank.setting('dispute_window_days') || ' days of check-out');
    END IF;
    IF reason IS NULL OR length(btrim(reason)) NOT BETWEEN 1 AND 500 THEN
        PERFORM bank.refuse('reason', 'R19', 'a report says what happened (1 to 500 characters)');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.service_dispute x WHERE x.service_id = report_not_given.service_id) THEN
        PERFORM bank.refuse('service_id', 'R19', 'the service is already reported');
    END IF;
    RETURN bank.submit('report_not_given', jsonb_build_object('service_id', service_id, 'elder_id', elder_id, 'reason', btrim(reason)),
        'order.report_not_given', 'order');
END
$$;

CREATE FUNCTION api.decide_report(service_id bigint, staff text, upheld boolean, note text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bank.service_dispute x WHERE x.service_id = decide_report.service_id AND x.decided_at IS NULL) THEN
        PERFORM bank.refuse('service_id', 'R19', 'no undecided report concerns this service');
    END IF;
    IF staff IS NULL OR length(btrim(staff)) = 0 OR upheld IS NULL THEN
        PERFORM bank.refuse('staff', 'R19', 'a decision names the staff member and upholds or dismisses');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.service s WHERE s.id = decide_report.service_id AND s.settled_at IS NULL) THEN
        PERFORM bank.refuse('service_id', 'R19', 'the service is not settled yet; decide once it is');
    END IF;
    RETURN bank.submit('decide_report', jsonb_build_object('service_id', service_id, 'staff', btrim(staff), 'upheld', upheld, 'note', note),
        'settlement.decide_dispute', 'settlement');
END
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA bank FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO timebank_api;
GRANT EXECUTE ON FUNCTION bank.order_rate(bigint), bank.order_report_not_given(bigint) TO timebank_order;
GRANT EXECUTE ON FUNCTION bank.settlement_decide_dispute(bigint) TO timebank_settlement;
GRANT SELECT, INSERT ON bank.service_rating TO timebank_order;
GRANT SELECT, INSERT ON bank.service_dispute TO timebank_order;
GRANT SELECT, UPDATE (decided_at, decided_by, upheld, decision_note, reversed_minutes, debt_minutes) ON bank.service_dispute TO timebank_settlement;
GRANT SELECT ON bank.service_rating, bank.volunteer_rating, bank.district_rating TO timebank_order, timebank_settlement;
