-- 0008: every way coins move (R7-R13): district budgets for grants (R9),
-- verified lineal relatives and gifts (R8), donations to the
-- public-welfare account and grants from it (R10, R11), the 10,000-coin
-- milestone (R12) and star levels (R13).
--
-- The ledger's invariants (0004, L1-L8) hold for every new kind of
-- transfer; L7 now reads: coins enter only from district grant accounts
-- (grants) and the public-welfare account pays out only as welfare grants,
-- both to a person. New invariants, checked by bank.verify_rules():
--   L9   an account's earned minutes are its service credits, nothing else
--        (gifts, grants and donations received are never earned: R11)
--   L10  every milestone and star level an account's earnings reached is
--        recorded, once, with its date (R12, R13)
--   L11  a district's grants in a budget period stay within that budget (R9)
--   L12  every gift goes between relatives whose relationship staff verified (R8)

INSERT INTO bank.setting (name, value, description) VALUES
    ('star_1_hours', 100, 'R13 (ours): one-star volunteer, hours served'),
    ('star_2_hours', 300, 'R13 (ours): two-star volunteer, hours served'),
    ('star_3_hours', 600, 'R13 (ours): three-star volunteer, hours served'),
    ('star_4_hours', 1000, 'R13 (ours): four-star volunteer, hours served'),
    ('star_5_hours', 1500, 'R13 (ours): five-star volunteer, hours served'),
    ('milestone_coins', 10000, 'R12: earned coins that qualify a volunteer for a public elder-care institution'),
    ('transfer_max_coins', 1000, 'R8, R10 (ours): the most coins one gift, donation or welfare grant may carry'),
    ('redeem_min_age', 60, 'R7: a volunteer spends his or her own coins from this age, on the service date');

-- ======================================================================
-- The ledger, extended

-- L9: minutes earned by serving (service credits), kept beside the totals.
ALTER TABLE bank.account ADD COLUMN earned_minutes bigint NOT NULL DEFAULT 0
    CONSTRAINT account_earned_counted CHECK (earned_minutes >= 0);
COMMENT ON COLUMN bank.account.earned_minutes IS 'R6, R12, R13: minutes credited for services (never gifts, grants or donations received).';

ALTER TABLE bank.transfer DROP CONSTRAINT transfer_kind_known;
ALTER TABLE bank.transfer ADD CONSTRAINT transfer_kind_known CHECK (kind IN (
    'grant', 'service_hold', 'service_payment', 'service_release', 'service_credit',
    'gift', 'donation', 'welfare_grant'));
ALTER TABLE bank.transfer DROP CONSTRAINT transfer_grant_categorised;
-- R9, R10: grants, from a district or from the welfare account, say to which category of special elder.
ALTER TABLE bank.transfer ADD CONSTRAINT transfer_grant_categorised CHECK (
    (kind IN ('grant', 'welfare_grant')) = (grant_category IS NOT NULL) AND (kind NOT IN ('grant', 'welfare_grant') OR phase = 'posted'));

-- R12, R13: each milestone a volunteer's earnings reached, once, with its
-- date; kept even if the coins are spent later.
CREATE TABLE bank.volunteer_milestone (
    person_id      bigint NOT NULL REFERENCES bank.person,
    -- star_1 .. star_5 (R13), coins_10000 (R12).
    milestone      text NOT NULL CONSTRAINT milestone_known CHECK (milestone ~ '^(star_[1-5]|coins_10000)$'),
    reached_at     timestamptz NOT NULL DEFAULT now(),
    -- The earned minutes when it was reached.
    earned_minutes bigint NOT NULL,
    PRIMARY KEY (person_id, milestone)
);
COMMENT ON TABLE bank.volunteer_milestone IS 'R12, R13: star levels and the 10,000-coin milestone, each recorded once when first reached. 星级与万币里程碑';

-- The milestones and the earned minutes each needs (from bank.setting).
CREATE FUNCTION bank.milestone_thresholds() RETURNS TABLE (milestone text, minutes bigint)
LANGUAGE sql STABLE AS $$
    SELECT 'star_' || substr(name, 6, 1), value::bigint * 60 FROM bank.setting WHERE name ~ '^star_[1-5]_hours$'
    UNION ALL
    SELECT 'coins_10000', value::bigint * 60 FROM bank.setting WHERE name = 'milestone_coins'
$$;

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
               0::bigint AS c_pending, 0::bigint AS c_posted, 0::bigint AS earned
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

-- ======================================================================
-- R9: district budgets

CREATE TABLE bank.district_budget (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_code   text NOT NULL REFERENCES bank.district,
    -- The days (Asia/Shanghai) the budget covers.
    period          daterange NOT NULL CONSTRAINT budget_period_bounded CHECK (NOT isempty(period) AND NOT upper_inf(period) AND NOT lower_inf(period)),
    budget_minutes  bigint NOT NULL CONSTRAINT budget_positive CHECK (budget_minutes > 0),
    -- Granted so far in the period (kept by bank.settlement_grant under the row's lock).
    granted_minutes bigint NOT NULL DEFAULT 0,
    request_id      bigint NOT NULL CONSTRAINT budget_one_per_request UNIQUE REFERENCES bank.request,
    -- L11: never more granted than budgeted.
    CONSTRAINT budget_not_exceeded CHECK (granted_minutes BETWEEN 0 AND budget_minutes),
    -- One budget per district for any day.
    CONSTRAINT budget_periods_do_not_overlap EXCLUDE USING gist (district_code WITH =, period WITH &&)
);
COMMENT ON TABLE bank.district_budget IS 'R9: what each district may grant to special elders in a period, and what it has granted. 区级发放预算';

-- Today, as Beijing counts days.
CREATE FUNCTION bank.local_today() RETURNS date
LANGUAGE sql STABLE
RETURN (now() AT TIME ZONE 'Asia/Shanghai')::date;

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

-- R9: a grant, within the district's budget for today (the budget row is
-- locked, so concurrent grants cannot overspend it together).
CREATE OR REPLACE FUNCTION bank.settlement_grant(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
    minutes bigint;
    budget bank.district_budget;
    transfer bigint;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    minutes := (r.args->>'minutes')::bigint;
    SELECT * INTO budget FROM bank.district_budget b
     WHERE b.district_code = r.args->>'district_code' AND b.period @> bank.local_today() FOR UPDATE;
    IF budget.id IS NULL OR budget.granted_minutes + minutes > budget.budget_minutes THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R9: the grant exceeds what remains of the district''s budget for this period');
        RETURN;
    END IF;
    UPDATE bank.district_budget SET granted_minutes = granted_minutes + minutes WHERE id = budget.id;
    INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, grant_category, request_id)
    SELECT 'grant:' || r.id, 'posted', 'grant', g.id, bank.open_account((r.args->>'elder_id')::bigint),
           minutes, r.args->>'category', r.id
      FROM bank.account g WHERE g.district_code = r.args->>'district_code'
    RETURNING id INTO transfer;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('transfer_id', transfer));
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

-- R9, replaced: a district grants only to elders of its district, within its budget.
CREATE OR REPLACE FUNCTION api.grant_coins(district_code text, elder_id bigint, category text, coins bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p bank.person := bank.person_for('elder_id', elder_id);
    budget bank.district_budget;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bank.district d WHERE d.code = district_code) THEN
        PERFORM bank.refuse('district_code', 'R9', 'no Beijing district has code ' || coalesce(district_code, 'NULL'));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.elder e WHERE e.person_id = elder_id) THEN
        PERFORM bank.refuse('elder_id', 'R9', 'coins are granted to authenticated elders only');
    END IF;
    IF p.district_code <> district_code THEN
        PERFORM bank.refuse('elder_id', 'R9', 'a district grants coins to the elders of its own district only');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.special_elder_category c WHERE c.code = category) THEN
        PERFORM bank.refuse('category', 'R9', 'no category of special elder is called ' || coalesce(category, 'NULL'));
    END IF;
    IF category = 'very_old' AND bank.age(p.birth_date, current_date) < bank.setting('very_old_min_age') THEN
        PERFORM bank.refuse('category', 'R9', 'the very old are ' || bank.setting('very_old_min_age') || ' or over');
    END IF;
    IF coins IS NULL OR coins < 1 OR coins > bank.setting('grant_max_coins') THEN
        PERFORM bank.refuse('coins', 'R9', 'a grant is 1 to ' || bank.setting('grant_max_coins') || ' whole coins');
    END IF;
    SELECT * INTO budget FROM bank.district_budget b
     WHERE b.district_code = grant_coins.district_code AND b.period @> bank.local_today();
    IF budget.id IS NULL THEN
        PERFORM bank.refuse('district_code', 'R9', 'the district has set no budget for today');
    END IF;
    IF budget.granted_minutes + coins * 60 > budget.budget_minutes THEN
        PERFORM bank.refuse('coins', 'R9', format('the district''s budget has %s coins left', (budget.budget_minutes - budget.granted_minutes) / 60));
    END IF;
    RETURN bank.submit('grant_coins',
        jsonb_build_object('district_code', district_code, 'elder_id', elder_id, 'category', category, 'minutes', coins * 60),
        'settlement.grant', 'settlement');
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

-- R7, replaced: a volunteer spends his or her own coins only from age 60
-- on the service date; elders (R4) are 60 or over anyway.
CREATE OR REPLACE FUNCTION api.publish_demand(
    elder_id bigint, category_code text, district_code text, description text, starts_at timestamptz, minutes bigint
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p bank.person := bank.person_for('elder_id', elder_id);
BEGIN
    IF starts_at IS NOT NULL
       AND bank.age(p.birth_date, (starts_at AT TIME ZONE 'Asia/Shanghai')::date) < bank.setting('redeem_min_age')
       AND EXISTS (SELECT 1 FROM bank.volunteer v WHERE v.person_id = elder_id) THEN
        PERFORM bank.refuse('elder_id', 'R7', 'a volunteer spends his or her own coins on services only from age '
            || bank.setting('redeem_min_age') || ' on the service date');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.elder e WHERE e.person_id = elder_id) THEN
        PERFORM bank.refuse('elder_id', 'R4', 'only an elder who completed identity authentication may publish a demand');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.service_category c WHERE c.code = category_code) THEN
        PERFORM bank.refuse('category_code', 'R14', 'no category of service is called ' || coalesce(category_code, 'NULL'));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.district d WHERE d.code = district_code) THEN
        PERFORM bank.refuse('district_code', 'R15', 'no Beijing district has code ' || coalesce(district_code, 'NULL'));
    END IF;
    IF description IS NULL OR length(btrim(description)) NOT BETWEEN 1 AND 500 THEN
        PERFORM bank.refuse('description', 'R16', 'a description of 1 to 500 characters is needed');
    END IF;
    IF starts_at IS NULL OR starts_at <= now() OR date_trunc('minute', starts_at) <> starts_at THEN
        PERFORM bank.refuse('starts_at', 'R16', 'a demand starts in the future, on a whole minute');
    END IF;
    IF minutes IS NULL OR minutes NOT BETWEEN bank.setting('demand_min_minutes') AND bank.setting('demand_max_minutes') THEN
        PERFORM bank.refuse('minutes', 'R16', 'a demand lasts ' || bank.setting('demand_min_minutes') || ' to '
            || bank.setting('demand_max_minutes') || ' minutes');
    END IF;
    IF bank.available_minutes(elder_id) < minutes THEN
        PERFORM bank.refuse('minutes', 'R16', format('the elder has %s available minutes, and the demand needs %s',
            bank.available_minutes(elder_id), minutes));
    END IF;
    RETURN bank.submit('publish_demand',
        jsonb_build_object('elder_id', elder_id, 'category_code', category_code, 'district_code', district_code,
                           'description', btrim(description), 'starts_at', starts_at, 'minutes', minutes),
        'settlement.hold', 'settlement');
END
$$;

-- ======================================================================
-- `ledger verify`, continued: the invariants of this migration.
CREATE FUNCTION bank.verify_rules() RETURNS TABLE (check_name text, problem text)
LANGUAGE plpgsql AS $$
BEGIN
    check_name := 'L9 earned minutes are service credits only (R11: donations and gifts are not earnings)';
    SELECT format('account %s counts %s earned minutes; its service credits sum to %s', a.id, a.earned_minutes, coalesce(c.total, 0))
      INTO problem
      FROM bank.account a
      LEFT JOIN (SELECT credit_account_id, sum(amount) AS total FROM bank.transfer WHERE kind = 'service_credit'
                  GROUP BY credit_account_id) c ON c.credit_account_id = a.id
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
END
$$;

-- Who runs what.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA bank FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO timebank_api;
GRANT EXECUTE ON FUNCTION bank.milestone_thresholds(), bank.local_today(), bank.verified_relatives(bigint, bigint)
    TO timebank_enrollment, timebank_order, timebank_settlement;
GRANT EXECUTE ON FUNCTION bank.enrollment_declare_relative(bigint), bank.enrollment_verify_relative(bigint) TO timebank_enrollment;
GRANT EXECUTE ON FUNCTION bank.settlement_set_budget(bigint), bank.settlement_move(bigint), bank.verify_rules() TO timebank_settlement;
GRANT SELECT, INSERT, UPDATE ON bank.relationship TO timebank_enrollment;
GRANT SELECT ON bank.relationship TO timebank_settlement;
GRANT SELECT, INSERT, UPDATE ON bank.district_budget TO timebank_settlement;
GRANT SELECT, INSERT ON bank.volunteer_milestone TO timebank_settlement;
GRANT SELECT ON bank.volunteer_milestone TO timebank_order, timebank_enrollment;
