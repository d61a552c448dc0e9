-- 0010: R19, ratings and reports that a service was not given. After
-- check-out the elder (or the agent institution acting for the elder, R5)
-- rates the service once; within a configured number of days the elder
-- may report that it was not given. Staff decide; an upheld report
-- reverses the settlement with a correcting transfer from the volunteer
-- back to the elder (transfers are never edited), as far as the
-- volunteer's available coins allow, and records the rest as a debt.
--
-- L9 now reads: earned minutes are service credits less service reversals.

INSERT INTO bank.setting (name, value, description) VALUES
    ('dispute_window_days', 7, 'R19 (ours): days after check-out within which an elder may report that a service was not given');

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

ALTER TABLE bank.transfer DROP CONSTRAINT transfer_kind_known;
ALTER TABLE bank.transfer ADD CONSTRAINT transfer_kind_known CHECK (kind IN (
    'grant', 'service_hold', 'service_payment', 'service_release', 'service_credit',
    'gift', 'donation', 'welfare_grant', 'service_reversal'));

CREATE OR REPLACE FUNCTION bank.apply_transfers() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    broken text;
BEGIN
    -- L8: a resolution matches its hold: same accounts, not more than it.
    SELECT format('transfer %s resolves %s, which is not a hold of the same accounts for at least its amount', t.idempotency_key, t.pending_id)
      INTO broken
      FROM new_transfers t LEFT JOIN bank.transfer p ON p.id = t.pending_id
     WHERE t.pending_id IS NOT NULL
       AND (p.id IS NULL OR p.phase <> 'pending'
            OR p.debit_account_id <> t.debit_account_id OR p.credit_account_id <> t.credit_account_id
            OR t.amount > p.amount OR (t.phase = 'void_pending' AND t.amount <> p.amount))
     LIMIT 1;
    IF broken IS NOT NULL THEN
        RAISE EXCEPTION 'L8: %', broken USING ERRCODE = 'check_violation';
    END IF;
    -- L7: each kind of transfer between the kinds of account it may join.
    SELECT format('transfer %s: %s from a %s account to a %s account', t.idempotency_key, t.kind, d.kind, c.kind)
      INTO broken
      FROM new_transfers t
      JOIN bank.account d ON d.id = t.debit_account_id
      JOIN bank.account c ON c.id = t.credit_account_id
     WHERE (d.kind = 'district_grant') <> (t.kind = 'grant')
        OR (d.kind = 'public_welfare') <> (t.kind = 'welfare_grant')
        OR (c.kind = 'public_welfare') <> (t.kind = 'donation')
        OR (t.kind IN ('grant', 'welfare_grant') AND c.kind <> 'personal')
        OR (t.kind IN ('gift', 'donation') AND d.kind <> 'personal')
        OR (t.kind = 'gift' AND c.kind <> 'personal')
        OR (t.kind = 'service_reversal' AND (d.kind <> 'personal' OR c.kind <> 'personal'))
     LIMIT 1;
    IF broken IS NOT NULL THEN
        RAISE EXCEPTION 'L7: %', broken USING ERRCODE = 'check_violation';
    END IF;

    PERFORM 1 FROM bank.account a
     WHERE a.id IN (SELECT debit_account_id FROM new_transfers UNION SELECT credit_account_id FROM new_transfers)
     ORDER BY a.id FOR NO KEY UPDATE;
    WITH moves AS (
        SELECT t.debit_account_id AS account_id,
               CASE t.phase WHEN 'pending' THEN t.amount WHEN 'posted' THEN 0 ELSE -p.amount END AS d_pending,
               CASE WHEN t.phase IN ('posted', 'post_pending') THEN t.amount ELSE 0 END AS d_posted,
               0::bigint AS c_pending, 0::bigint AS c_posted,
               CASE WHEN t.kind = 'service_reversal' THEN -t.amount ELSE 0 END AS earned
          FROM new_transfers t LEFT JOIN bank.transfer p ON p.id = t.pending_id
        UNION ALL
        SELECT t.credit_account_id, 0, 0,
               CASE t.phase WHEN 'pending' THEN t.amount WHEN 'posted' THEN 0 ELSE -p.amount END,
               CASE WHEN t.phase IN ('posted', 'post_pending') THEN t.amount ELSE 0 END,
               CASE WHEN t.kind = 'service_credit' THEN t.amount ELSE 0 END
          FROM new_transfers t LEFT JOIN bank.transfer p ON p.id = t.pending_id
    ), totals AS (
        SELECT account_id, sum(d_pending) AS d_pending, sum(d_posted) AS d_posted,
               sum(c_pending) AS c_pending, sum(c_posted) AS c_posted, sum(earned) AS earned
          FROM moves GROUP BY account_id
    ), updated AS (
        UPDATE bank.account a
           SET debits_pending = a.debits_pending + t.d_pending, debits_posted = a.debits_posted + t.d_posted,
               credits_pending = a.credits_pending + t.c_pending, credits_posted = a.credits_posted + t.c_posted,
               earned_minutes = a.earned_minutes + t.earned
          FROM totals t
         WHERE a.id = t.account_id
        RETURNING a.person_id, a.earned_minutes, t.earned
    )
    -- L10: the milestones this statement's earnings crossed, recorded once.
    INSERT INTO bank.volunteer_milestone (person_id, milestone, earned_minutes)
    SELECT u.person_id, m.milestone, u.earned_minutes
      FROM updated u JOIN bank.milestone_thresholds() m
        ON u.earned > 0 AND u.earned_minutes >= m.minutes AND u.earned_minutes - u.earned < m.minutes
    ON CONFLICT (person_id, milestone) DO NOTHING;
    RETURN NULL;
END
$$;

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

-- L9, replaced: service credits less reversals.
CREATE OR REPLACE FUNCTION bank.verify_rules() RETURNS TABLE (check_name text, problem text)
LANGUAGE plpgsql AS $$
BEGIN
    check_name := 'L9 earned minutes are service credits less reversals (R11: donations and gifts are not earnings)';
    SELECT format('account %s counts %s earned minutes; its service credits less reversals are %s', a.id, a.earned_minutes, coalesce(c.total, 0))
      INTO problem
      FROM bank.account a
      LEFT JOIN (SELECT account_id, sum(amount) AS total FROM (
                     SELECT credit_account_id AS account_id, amount FROM bank.transfer WHERE kind = 'service_credit'
                     UNION ALL
                     SELECT debit_account_id, -amount FROM bank.transfer WHERE kind = 'service_reversal') m
                  GROUP BY account_id) c ON c.account_id = a.id
     WHERE a.earned_minutes <> coalesce(c.total, 0)
     ORDER BY a.id LIMIT 1;
    RETURN NEXT;

    check_name := 'L10 every milestone reached is recorded once (R12, R13)';
    SELECT format('person %s earned %s minutes but has no %s recorded', a.person_id, a.earned_minutes, m.milestone)
      INTO problem
      FROM bank.account a JOIN bank.milestone_thresholds() m ON a.earned_minutes >= m.minutes
     WHERE a.person_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM bank.volunteer_milestone v WHERE v.person_id = a.person_id AND v.milestone = m.milestone)
     ORDER BY a.id LIMIT 1;
    RETURN NEXT;

    check_name := 'L11 every district''s grants within its budget (R9)';
    SELECT format('district %s, budget %s: %s minutes budgeted, %s counted, grants in the period sum to %s',
                  b.district_code, b.id, b.budget_minutes, b.granted_minutes, coalesce(g.total, 0))
      INTO problem
      FROM bank.district_budget b
      LEFT JOIN LATERAL (
          SELECT sum(t.amount) AS total FROM bank.transfer t JOIN bank.account d ON d.id = t.debit_account_id
           WHERE t.kind = 'grant' AND d.district_code = b.district_code
             AND b.period @> (t.created_at AT TIME ZONE 'Asia/Shanghai')::date) g ON true
     WHERE coalesce(g.total, 0) <> b.granted_minutes OR b.granted_minutes > b.budget_minutes
     ORDER BY b.id LIMIT 1;
    RETURN NEXT;

    check_name := 'L11 every grant made within a budget of its district (R9)';
    SELECT format('grant %s of district %s on %s falls in no budget of the district', t.id, d.district_code,
                  (t.created_at AT TIME ZONE 'Asia/Shanghai')::date)
      INTO problem
      FROM bank.transfer t JOIN bank.account d ON d.id = t.debit_account_id
     WHERE t.kind = 'grant'
       AND NOT EXISTS (SELECT 1 FROM bank.district_budget b
                        WHERE b.district_code = d.district_code AND b.period @> (t.created_at AT TIME ZONE 'Asia/Shanghai')::date)
     ORDER BY t.id LIMIT 1;
    RETURN NEXT;

    check_name := 'L12 every gift between verified lineal relatives (R8)';
    SELECT format('gift %s from account %s to account %s: no verified relationship', t.id, t.debit_account_id, t.credit_account_id)
      INTO problem
      FROM bank.transfer t
      JOIN bank.account d ON d.id = t.debit_account_id
      JOIN bank.account c ON c.id = t.credit_account_id
     WHERE t.kind = 'gift' AND NOT bank.verified_relatives(d.person_id, c.person_id)
     ORDER BY t.id LIMIT 1;
    RETURN NEXT;

    check_name := 'R19 every reversal is an upheld report''s, for at most the credit';
    SELECT format('reversal %s of service %s: report %s, credited %s, reversed %s', t.id, t.service_id,
                  CASE WHEN x.upheld THEN 'upheld' ELSE 'not upheld' END, c.amount, t.amount)
      INTO problem
      FROM bank.transfer t
      LEFT JOIN bank.service_dispute x ON x.service_id = t.service_id
      LEFT JOIN bank.transfer c ON c.service_id = t.service_id AND c.kind = 'service_credit'
     WHERE t.kind = 'service_reversal'
       AND (x.upheld IS DISTINCT FROM true OR c.id IS NULL OR t.amount > c.amount OR t.amount <> x.reversed_minutes)
     ORDER BY t.id LIMIT 1;
    RETURN NEXT;
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
