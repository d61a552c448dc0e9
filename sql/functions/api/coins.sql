-- api: coins. R9 grants to special elders and districts' budgets, R8
-- gifts between relatives, R10 donations and public-welfare grants,
-- balances, R12-R13 achievements. Each validates, records the request and
-- enqueues its job; the settlement worker moves the coins.

-- R9: a district's civil-affairs office grants coins to a special elder:
-- a staff member of that district (or of the city) with the power grant.
-- (Staff acts: timebank_staff only; sql/functions/bank/staff.sql.)
CREATE OR REPLACE FUNCTION api.grant_coins(staff_code text, district_code text, elder_id bigint, category text, coins bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'grant', 'R9');
    p bank.person := bank.person_for('elder_id', elder_id);
    budget bank.district_budget;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bank.district d WHERE d.code = district_code) THEN
        PERFORM bank.refuse('district_code', 'R9', 'no Beijing district has code ' || coalesce(district_code, 'NULL'));
    END IF;
    PERFORM bank.check_staff_district(m, 'R9', ARRAY[district_code]);
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
    RETURN bank.record_staff_act(m, 'grant', bank.submit('grant_coins',
        jsonb_build_object('district_code', district_code, 'elder_id', elder_id, 'category', category, 'minutes', coins * 60,
                           'staff', m.code, 'staff_member_id', m.id),
        'settlement.grant', 'settlement'));
END
$$;

-- A person's coins: available, held for demands, and in total, in minutes
-- and in coins (1 coin = 60 minutes).
CREATE OR REPLACE FUNCTION api.balance(person_id bigint)
RETURNS TABLE (available_minutes bigint, held_minutes bigint, posted_minutes bigint, available_coins numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(a.credits_posted - a.debits_posted - a.debits_pending, 0),
           coalesce(a.debits_pending, 0),
           coalesce(a.credits_posted - a.debits_posted, 0),
           round(coalesce(a.credits_posted - a.debits_posted - a.debits_pending, 0) / 60.0, 2)
      FROM (SELECT 1) one LEFT JOIN bank.account a ON a.person_id = balance.person_id
$$;

-- ======================================================================
-- The api

-- R9: a district's budget for a period, set by a city-level staff member
-- with the power set_budget (a district does not set its own).
CREATE OR REPLACE FUNCTION api.set_district_budget(staff_code text, district_code text, valid_from date, valid_to date, coins bigint)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'set_budget', 'R9');
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
    RETURN bank.record_staff_act(m, 'set_budget', bank.submit('set_district_budget',
        jsonb_build_object('district_code', district_code, 'valid_from', valid_from, 'valid_to', valid_to, 'minutes', coins * 60,
                           'staff', m.code, 'staff_member_id', m.id),
        'settlement.set_budget', 'settlement'));
END
$$;

CREATE OR REPLACE FUNCTION api.gift_coins(giver_id bigint, relative_id bigint, coins bigint) RETURNS bigint
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

CREATE OR REPLACE FUNCTION api.donate_coins(person_id bigint, coins bigint) RETURNS bigint
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

-- R10: coins from the public-welfare account to a special elder in need,
-- by a staff member of the elder's district (or the city) with the power grant.
CREATE OR REPLACE FUNCTION api.grant_from_welfare(staff_code text, elder_id bigint, category text, coins bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'grant', 'R10');
    p bank.person := bank.person_for('elder_id', elder_id);
BEGIN
    PERFORM bank.check_staff_district(m, 'R10', ARRAY[p.district_code]);
    IF NOT EXISTS (SELECT 1 FROM bank.elder e WHERE e.person_id = elder_id) THEN
        PERFORM bank.refuse('elder_id', 'R10', 'welfare coins go to authenticated elders only');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.special_elder_category c WHERE c.code = category) THEN
        PERFORM bank.refuse('category', 'R10', 'no category of special elder is called ' || coalesce(category, 'NULL'));
    END IF;
    PERFORM bank.check_coins(coins, 'R10');
    IF (SELECT credits_posted - debits_posted - debits_pending FROM bank.account WHERE kind = 'public_welfare') < coins * 60 THEN
        PERFORM bank.refuse('coins', 'R10', 'the public-welfare account has not enough coins');
    END IF;
    RETURN bank.record_staff_act(m, 'grant', bank.submit('grant_from_welfare',
        jsonb_build_object('elder_id', elder_id, 'category', category, 'minutes', coins * 60, 'staff', m.code, 'staff_member_id', m.id),
        'settlement.move', 'settlement'));
END
$$;

-- R12, R13: a volunteer's earned minutes, star levels and milestone.
CREATE OR REPLACE FUNCTION api.achievements(person_id bigint)
RETURNS TABLE (earned_minutes bigint, milestone text, reached_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(a.earned_minutes, 0), m.milestone, m.reached_at
      FROM (SELECT 1) one
      LEFT JOIN bank.account a ON a.person_id = achievements.person_id
      LEFT JOIN bank.volunteer_milestone m ON m.person_id = achievements.person_id
     ORDER BY m.reached_at, m.milestone
$$;
