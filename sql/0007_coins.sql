-- 0007: the ways coins move besides services (R7-R10): district budgets
-- (the table is the ledger's, 0004), verified lineal relatives and gifts
-- (R8), donations to the public-welfare account and grants from it (R10,
-- R11), and each volunteer's achievements (R12, R13). Every transfer here
-- keeps the ledger's invariants (0004, L1-L12).

CREATE FUNCTION bank.settlement_set_budget(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    budget bigint;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    BEGIN
        INSERT INTO bank.district_budget (district_code, period, budget_minutes, request_id)
        VALUES (r.args->>'district_code', daterange((r.args->>'valid_from')::date, (r.args->>'valid_to')::date, '[]'),
                (r.args->>'minutes')::bigint, r.id)
        RETURNING id INTO budget;
    EXCEPTION WHEN exclusion_violation THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R9: the district already has a budget for part of that period');
        RETURN;
    END;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('budget_id', budget));
END
$$;

-- ======================================================================
-- R8: lineal relatives, declared and then verified by staff

CREATE TABLE bank.relationship (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id     bigint NOT NULL REFERENCES bank.person,
    relative_id   bigint NOT NULL REFERENCES bank.person,
    -- What the relative is to the person: lineal kin only (R8).
    relation      text NOT NULL CONSTRAINT relationship_lineal CHECK (relation IN ('parent', 'grandparent', 'child', 'grandchild')),
    declared_at   timestamptz NOT NULL DEFAULT now(),
    request_id    bigint NOT NULL CONSTRAINT relationship_one_per_request UNIQUE REFERENCES bank.request,
    -- Staff verification, with the evidence it rests on (household register, certificate...).
    verified_at   timestamptz,
    verified_by   text,
    evidence_ref  text,
    CONSTRAINT relationship_of_two_people CHECK (person_id <> relative_id),
    CONSTRAINT relationship_declared_once UNIQUE (person_id, relative_id),
    CONSTRAINT relationship_verification_complete CHECK ((verified_at IS NULL) = (verified_by IS NULL) AND (verified_at IS NULL) = (evidence_ref IS NULL))
);
COMMENT ON TABLE bank.relationship IS 'R8: lineal relatives, declared by a person and verified by staff before any gift. 直系亲属关系';

-- Whether two people are verified lineal relatives, either way round.
CREATE FUNCTION bank.verified_relatives(a bigint, b bigint) RETURNS boolean
LANGUAGE sql STABLE
RETURN EXISTS (SELECT 1 FROM bank.relationship r
                WHERE r.verified_at IS NOT NULL
                  AND ((r.person_id = a AND r.relative_id = b) OR (r.person_id = b AND r.relative_id = a)));

CREATE FUNCTION bank.enrollment_declare_relative(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    declared bigint;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    INSERT INTO bank.relationship (person_id, relative_id, relation, request_id)
    VALUES ((r.args->>'person_id')::bigint, (r.args->>'relative_id')::bigint, r.args->>'relation', r.id)
    ON CONFLICT ON CONSTRAINT relationship_declared_once DO NOTHING
    RETURNING id INTO declared;
    IF declared IS NULL THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R8: this relationship is already declared');
        RETURN;
    END IF;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('relationship_id', declared));
END
$$;

CREATE FUNCTION bank.enrollment_verify_relative(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    UPDATE bank.relationship
       SET verified_at = now(), verified_by = r.args->>'staff', evidence_ref = r.args->>'evidence_ref'
     WHERE id = (r.args->>'relationship_id')::bigint AND verified_at IS NULL;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('relationship_id', (r.args->>'relationship_id')::bigint));
END
$$;

-- ======================================================================
-- R8 gifts, R10 donations and welfare grants: posted transfers between
-- people and the public-welfare account. A transfer that would overdraw
-- its payer is refused by L6 and ends the request refused.

CREATE FUNCTION bank.settlement_move(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    kind text;
    payer bigint;
    payee bigint;
    transfer bigint;
    violated text;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    kind := r.kind;
    IF kind = 'gift_coins' THEN
        -- L12: checked again here, under the request's lock.
        IF NOT bank.verified_relatives((r.args->>'giver_id')::bigint, (r.args->>'relative_id')::bigint) THEN
            PERFORM bank.finish_request(r.id, 'refused', NULL, 'R8: coins are given only to a verified lineal relative');
            RETURN;
        END IF;
        payer := bank.open_account((r.args->>'giver_id')::bigint);
        payee := bank.open_account((r.args->>'relative_id')::bigint);
    ELSIF kind = 'donate_coins' THEN
        payer := bank.open_account((r.args->>'person_id')::bigint);
        SELECT id INTO payee FROM bank.account WHERE account.kind = 'public_welfare';
    ELSE  -- grant_from_welfare
        SELECT id INTO payer FROM bank.account WHERE account.kind = 'public_welfare';
        payee := bank.open_account((r.args->>'elder_id')::bigint);
    END IF;
    BEGIN
        INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, grant_category, request_id)
        VALUES (kind || ':' || r.id, 'posted',
                CASE kind WHEN 'gift_coins' THEN 'gift' WHEN 'donate_coins' THEN 'donation' ELSE 'welfare_grant' END,
                payer, payee, (r.args->>'minutes')::bigint, r.args->>'category', r.id)
        RETURNING id INTO transfer;
    EXCEPTION WHEN check_violation THEN
        GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
        IF violated IS DISTINCT FROM 'account_available_not_negative' THEN RAISE; END IF;
        PERFORM bank.finish_request(r.id, 'refused', NULL, CASE kind
            WHEN 'grant_from_welfare' THEN 'R10: the public-welfare account has not enough coins for this grant'
            WHEN 'gift_coins' THEN 'R8: the giver has not enough available coins'
            ELSE 'R10: the donor has not enough available coins' END);
        RETURN;
    END;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('transfer_id', transfer));
END
$$;

-- ======================================================================
-- The api

CREATE FUNCTION api.set_district_budget(district_code text, valid_from date, valid_to date, coins bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bank.district d WHERE d.code = district_code) THEN
        PERFORM bank.refuse('district_code', 'R9', 'no Beijing district has code ' || coalesce(district_code, 'NULL'));
    END IF;
    IF valid_from IS NULL OR valid_to IS NULL OR valid_to < valid_from THEN
        PERFORM bank.refuse('valid_to', 'R9', 'a budget period ends on or after its first day');
    END IF;
    IF coins IS NULL OR coins < 1 THEN
        PERFORM bank.refuse('coins', 'R9', 'a budget is a positive number of coins');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.district_budget b WHERE b.district_code = set_district_budget.district_code
                  AND b.period && daterange(valid_from, valid_to, '[]')) THEN
        PERFORM bank.refuse('valid_from', 'R9', 'the district already has a budget for part of that period');
    END IF;
    RETURN bank.submit('set_district_budget',
        jsonb_build_object('district_code', district_code, 'valid_from', valid_from, 'valid_to', valid_to, 'minutes', coins * 60),
        'settlement.set_budget', 'settlement');
END
$$;

CREATE FUNCTION api.declare_relative(person_id bigint, relative_id bigint, relation text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.person_for('person_id', person_id);
    PERFORM bank.person_for('relative_id', relative_id);
    IF person_id = relative_id THEN
        PERFORM bank.refuse('relative_id', 'R8', 'a person is not his or her own relative');
    END IF;
    IF relation IS NULL OR relation NOT IN ('parent', 'grandparent', 'child', 'grandchild') THEN
        PERFORM bank.refuse('relation', 'R8', 'gifts go to lineal relatives only: parent, grandparent, child or grandchild');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.relationship r
                WHERE (r.person_id = declare_relative.person_id AND r.relative_id = declare_relative.relative_id)
                   OR (r.person_id = declare_relative.relative_id AND r.relative_id = declare_relative.person_id)) THEN
        PERFORM bank.refuse('relative_id', 'R8', 'this relationship is already declared');
    END IF;
    RETURN bank.submit('declare_relative', jsonb_build_object('person_id', person_id, 'relative_id', relative_id, 'relation', relation),
        'enrollment.declare_relative', 'enrollment');
END
$$;

CREATE FUNCTION api.verify_relative(relationship_id bigint, staff text, evidence_ref text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bank.relationship r WHERE r.id = relationship_id AND r.verified_at IS NULL) THEN
        PERFORM bank.refuse('relationship_id', 'R8', 'no declared, unverified relationship has this id');
    END IF;
    IF staff IS NULL OR length(btrim(staff)) = 0 THEN
        PERFORM bank.refuse('staff', 'R8', 'the verifying staff member is named');
    END IF;
    IF evidence_ref IS NULL OR length(btrim(evidence_ref)) = 0 THEN
        PERFORM bank.refuse('evidence_ref', 'R8', 'a verification names its evidence');
    END IF;
    RETURN bank.submit('verify_relative',
        jsonb_build_object('relationship_id', relationship_id, 'staff', btrim(staff), 'evidence_ref', btrim(evidence_ref)),
        'enrollment.verify_relative', 'enrollment');
END
$$;

-- Checks common to gifts, donations and welfare grants: whole coins within the limit.
CREATE FUNCTION bank.check_coins(coins bigint, rule text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF coins IS NULL OR coins < 1 OR coins > bank.setting('transfer_max_coins') THEN
        PERFORM bank.refuse('coins', rule, 'a transfer is 1 to ' || bank.setting('transfer_max_coins') || ' whole coins');
    END IF;
END
$$;

CREATE FUNCTION api.gift_coins(giver_id bigint, relative_id bigint, coins bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.person_for('giver_id', giver_id);
    PERFORM bank.person_for('relative_id', relative_id);
    IF NOT bank.verified_relatives(giver_id, relative_id) THEN
        PERFORM bank.refuse('relative_id', 'R8', 'coins are given only to a lineal relative whose relationship staff verified');
    END IF;
    PERFORM bank.check_coins(coins, 'R8');
    IF bank.available_minutes(giver_id) < coins * 60 THEN
        PERFORM bank.refuse('coins', 'R8', format('the giver has %s available minutes', bank.available_minutes(giver_id)));
    END IF;
    RETURN bank.submit('gift_coins', jsonb_build_object('giver_id', giver_id, 'relative_id', relative_id, 'minutes', coins * 60),
        'settlement.move', 'settlement');
END
$$;

CREATE FUNCTION api.donate_coins(person_id bigint, coins bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.person_for('person_id', person_id);
    PERFORM bank.check_coins(coins, 'R10');
    IF bank.available_minutes(person_id) < coins * 60 THEN
        PERFORM bank.refuse('coins', 'R10', format('the donor has %s available minutes', bank.available_minutes(person_id)));
    END IF;
    RETURN bank.submit('donate_coins', jsonb_build_object('person_id', person_id, 'minutes', coins * 60),
        'settlement.move', 'settlement');
END
$$;

-- R10: coins from the public-welfare account to a special elder in need.
CREATE FUNCTION api.grant_from_welfare(elder_id bigint, category text, coins bigint, staff text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.person_for('elder_id', elder_id);
    IF NOT EXISTS (SELECT 1 FROM bank.elder e WHERE e.person_id = elder_id) THEN
        PERFORM bank.refuse('elder_id', 'R10', 'welfare coins go to authenticated elders only');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.special_elder_category c WHERE c.code = category) THEN
        PERFORM bank.refuse('category', 'R10', 'no category of special elder is called ' || coalesce(category, 'NULL'));
    END IF;
    IF staff IS NULL OR length(btrim(staff)) = 0 THEN
        PERFORM bank.refuse('staff', 'R10', 'the staff member granting from the welfare account is named');
    END IF;
    PERFORM bank.check_coins(coins, 'R10');
    IF (SELECT credits_posted - debits_posted - debits_pending FROM bank.account WHERE kind = 'public_welfare') < coins * 60 THEN
        PERFORM bank.refuse('coins', 'R10', 'the public-welfare account has not enough coins');
    END IF;
    RETURN bank.submit('grant_from_welfare',
        jsonb_build_object('elder_id', elder_id, 'category', category, 'minutes', coins * 60, 'staff', btrim(staff)),
        'settlement.move', 'settlement');
END
$$;

-- R12, R13: a volunteer's earned minutes, star levels and milestone.
CREATE FUNCTION api.achievements(person_id bigint)
RETURNS TABLE (earned_minutes bigint, milestone text, reached_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(a.earned_minutes, 0), m.milestone, m.reached_at
      FROM (SELECT 1) one
      LEFT JOIN bank.account a ON a.person_id = achievements.person_id
      LEFT JOIN bank.volunteer_milestone m ON m.person_id = achievements.person_id
     ORDER BY m.reached_at, m.milestone
$$;

-- Who runs what.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA bank FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO timebank_api;
GRANT EXECUTE ON FUNCTION bank.verified_relatives(bigint, bigint) TO timebank_enrollment, timebank_order, timebank_settlement;
GRANT EXECUTE ON FUNCTION bank.enrollment_declare_relative(bigint), bank.enrollment_verify_relative(bigint) TO timebank_enrollment;
GRANT EXECUTE ON FUNCTION bank.settlement_set_budget(bigint), bank.settlement_move(bigint) TO timebank_settlement;
GRANT SELECT, INSERT, UPDATE ON bank.relationship TO timebank_enrollment;
GRANT SELECT ON bank.relationship TO timebank_settlement;
