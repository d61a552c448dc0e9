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
    PERFORM bank.check_district('district_code', 'R9', district_code);
    PERFORM bank.check_staff_district(m, 'R9', ARRAY[district_code]);
    IF NOT EXISTS (SELECT 1 FROM bank.elder e WHERE e.person_id = elder_id) THEN
        PERFORM bank.refuse('elder_id', 'R9', 'coins are granted to authenticated elders only');
    END IF;
    IF p.district_code <> district_code THEN
        PERFORM bank.refuse('elder_id', 'R9', 'a district grants coins to the elders of its own district only');
    END IF;
    PERFORM bank.check_special_elder_category('category', 'R9', category);
    IF category = 'very_old' AND bank.age(p.birth_date, bank.clock_date()) < bank.setting('very_old_min_age') THEN
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
        PERFORM bank.refuse('coins', 'R9', format('the grant asks %s coins; the district''s budget has %s coins left',
            coins, (budget.budget_minutes - budget.granted_minutes) / 60));
    END IF;
    RETURN bank.record_staff_act(m, 'grant', bank.submit('grant_coins',
        jsonb_build_object('district_code', district_code, 'elder_id', elder_id, 'category', category, 'minutes', coins * 60,
                           'staff', m.code, 'staff_member_id', m.id),
        'settlement.grant', 'settlement'));
END
$$;
COMMENT ON FUNCTION api.grant_coins(text, text, bigint, text, bigint) IS
'R9：区民政部门从本区预算向特殊老人发放时间币；须有 grant 权限，属 district_code 所在区或全市。 / R9: a district''s civil-affairs office grants coins from its budget to a special elder: the power grant, of district_code or city-level.
参数 / Arguments:
- staff_code: 办理的民政职员代码（bank.staff_member）/ the acting civil-affairs staff member''s code (bank.staff_member)
- district_code: 发放的区，须为老人所在区 / the granting district, the elder''s own
- elder_id: 已认证的老人 / the authenticated elder
- category: 特殊老人类别（bank.special_elder_category：economically_disadvantaged、severely_disabled、dementia、special_family_planning、severely_handicapped、very_old、urgent_need） / the category of special elder (bank.special_elder_category: economically_disadvantaged, severely_disabled, dementia, special_family_planning, severely_handicapped, very_old, urgent_need)
- coins: 整数时间币，1 至 grant_max_coins（1000）/ whole coins, 1 to grant_max_coins (1000)
返回 / Returns: 请求编号（此职员行为连同职员编号记入 bank.staff_act）；由 settlement 工作进程执行（settlement.grant），结果见 api.request_status / the request''s id (the act recorded with the member''s id in bank.staff_act); the settlement worker carries it out (settlement.grant); its outcome is api.request_status.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- staff_code R9: 无此在职职员，或其无 grant 权限 / no active staff member has this code, or it lacks the power grant
- staff_code R9: 职员属其他区：须为 district_code 所在区或全市职员 / the member acts for another district: it must be of district_code''s district, or city-level
- elder_id R3: 无此人 / no person is registered with this id
- district_code R9: 无此北京区代码（消息列出有效代码，api.districts）/ no Beijing district has this code (the message lists the valid ones, api.districts)
- elder_id R9: 不是已认证的老人，或不是本区老人 / not an authenticated elder, or not of this district
- category R9: 无此类别（消息列出有效代码，api.special_elder_categories）；very_old 须年满 80 岁（very_old_min_age）/ no such category (the message lists the valid ones, api.special_elder_categories); very_old needs 80 or over (very_old_min_age)
- coins R9: 不是 1 至 1000 的整数 / not 1 to 1000 whole coins
- district_code R9: 本区今日（北京时间）无预算 / the district has no budget for today (Beijing time)
- coins R9: 超出本区预算余额 / more than the budget has left
- elder_id R3: 此人账户已暂停或注销 / the person''s account is suspended or closed';

-- A person's coins: available, held for demands, and in total, in minutes
-- and in coins (1 coin = 60 minutes).
-- (An unknown person is refused, not given zeros: issue 19. A registered
-- person whose account the settlement worker has yet to open has 0.)
CREATE OR REPLACE FUNCTION api.balance(person_id bigint)
RETURNS TABLE (available_minutes bigint, held_minutes bigint, posted_minutes bigint, available_coins numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.person_for('person_id', person_id);
    RETURN QUERY
    SELECT coalesce(a.credits_posted - a.debits_posted - a.debits_pending, 0),
           coalesce(a.debits_pending, 0),
           coalesce(a.credits_posted - a.debits_posted, 0),
           round(coalesce(a.credits_posted - a.debits_posted - a.debits_pending, 0) / 60.0, 2)
      FROM (SELECT 1) one LEFT JOIN bank.account a ON a.person_id = balance.person_id;
END
$$;
COMMENT ON FUNCTION api.balance(bigint) IS
'某人的时间币：可用、为需求冻结和已入账的余额（R6：1 个时间币 = 60 分钟；R16：发布需求时冻结）。 / A person''s coins: available, held for demands and posted (R6: 1 coin = 60 minutes; R16: a demand''s coins are held when it is published).
参数 / Arguments:
- person_id: 账户所属的人 / the account''s person
返回 / Returns: 一行：available_minutes 可用分钟，held_minutes 冻结分钟，posted_minutes 已入账分钟（可用 + 冻结），available_coins 可用时间币（两位小数）；无账户时均为 0 / one row: available_minutes, held_minutes, posted_minutes (available plus held), available_coins (to two decimals); all 0 when the person has no account yet.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- person_id R3: 为空或无此人 / missing, or no person is registered with this id';

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
    PERFORM bank.check_district('district_code', 'R9', district_code);
    IF valid_from IS NULL OR NOT isfinite(valid_from) THEN
        PERFORM bank.refuse('valid_from', 'R9', 'valid_from is required: a budget period''s first day, a date');
    END IF;
    IF valid_to IS NULL OR NOT isfinite(valid_to) OR valid_to < valid_from THEN
        PERFORM bank.refuse('valid_to', 'R9', 'a budget period ends on a date on or after its first day');
    END IF;
    -- The ledger counts minutes in a bigint: a budget whose minutes would
    -- not fit is refused here, naming the field, not by a bare overflow.
    IF coins IS NULL OR coins < 1 OR coins > 9223372036854775807 / 60 THEN
        PERFORM bank.refuse('coins', 'R9', 'a budget is 1 to ' || 9223372036854775807 / 60
            || ' whole coins (its minutes fit the ledger''s bigint)');
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
COMMENT ON FUNCTION api.set_district_budget(text, text, date, date, bigint) IS
'R9：为某区设定一段时期的时间币发放预算；须有 set_budget 权限的全市职员（区不能为自己设定）。 / R9: sets a district''s budget of coins for a period: a city-level staff member with the power set_budget (a district does not set its own).
参数 / Arguments:
- staff_code: 办理的民政职员代码（bank.staff_member）/ the acting civil-affairs staff member''s code (bank.staff_member)
- district_code: 区代码 / the district''s code
- valid_from: 预算起始日 / the period''s first day
- valid_to: 预算截止日（含），不早于 valid_from / its last day (included), not before valid_from
- coins: 预算时间币数，正整数 / the budget in whole coins, positive
返回 / Returns: 请求编号（此职员行为连同职员编号记入 bank.staff_act）；由 settlement 工作进程执行（settlement.set_budget），结果见 api.request_status / the request''s id (the act recorded with the member''s id in bank.staff_act); the settlement worker carries it out (settlement.set_budget); its outcome is api.request_status.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- staff_code R9: 无此在职职员、无 set_budget 权限，或为区级职员（此为全市事项） / no active staff member has this code, it lacks the power set_budget, or it is a district''s member (this is a city-level act)
- district_code R9: 无此北京区代码（消息列出有效代码，api.districts）/ no Beijing district has this code (the message lists the valid ones, api.districts)
- valid_from R9: 为空或为无穷 / missing, or infinite
- valid_to R9: 为空、为无穷或截止早于起始 / missing, infinite, or the period ends before it starts
- coins R9: 为空、不是正数，或大于 153722867280912930（其分钟数须在 bigint 范围内）/ missing, not positive, or more than 153722867280912930 (its minutes must fit a bigint)
- valid_from R9: 与本区已有预算的时期重叠 / overlaps a budget the district already has';

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
        PERFORM bank.refuse('coins', 'R8', format('the gift asks %s coins (%s minutes); the giver has %s minutes (%s coins) available',
            coins, coins * 60, bank.available_minutes(giver_id), round(bank.available_minutes(giver_id) / 60.0, 2)));
    END IF;
    RETURN bank.submit('gift_coins', jsonb_build_object('giver_id', giver_id, 'relative_id', relative_id, 'minutes', coins * 60),
        'settlement.move', 'settlement');
END
$$;
COMMENT ON FUNCTION api.gift_coins(bigint, bigint, bigint) IS
'R8：把时间币赠与已由职员核实的直系亲属。 / R8: gives coins to a lineal relative whose relationship staff verified.
参数 / Arguments:
- giver_id: 赠与人 / the giver
- relative_id: 受赠的亲属 / the relative receiving them
- coins: 整数时间币，1 至 transfer_max_coins（1000）/ whole coins, 1 to transfer_max_coins (1000)
返回 / Returns: 请求编号；由 settlement 工作进程执行（settlement.move），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the settlement worker carries it out (settlement.move), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- giver_id R3: 无此人 / no person is registered with this id
- relative_id R3: 无此人 / no person is registered with this id
- relative_id R8: 两人不是已核实的直系亲属 / not a verified lineal relative of the giver
- coins R8: 不是 1 至 1000 的整数，或超过赠与人的可用余额 / not 1 to 1000 whole coins, or more than the giver''s available minutes
- giver_id R3: 此人账户已暂停或注销 / the person''s account is suspended or closed
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销、职员不在职，或此人不是在该机构登记的人 / acting as an agent (api.act_as_agent): the institution is withdrawn, its staff member inactive, or the person not registered with it';

CREATE OR REPLACE FUNCTION api.donate_coins(person_id bigint, coins bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.person_for('person_id', person_id);
    PERFORM bank.check_coins(coins, 'R10');
    IF bank.available_minutes(person_id) < coins * 60 THEN
        PERFORM bank.refuse('coins', 'R10', format('the donation asks %s coins (%s minutes); the donor has %s minutes (%s coins) available',
            coins, coins * 60, bank.available_minutes(person_id), round(bank.available_minutes(person_id) / 60.0, 2)));
    END IF;
    RETURN bank.submit('donate_coins', jsonb_build_object('person_id', person_id, 'minutes', coins * 60),
        'settlement.move', 'settlement');
END
$$;
COMMENT ON FUNCTION api.donate_coins(bigint, bigint) IS
'R10、R11：把时间币捐给公益账户（永久放弃：其背后的服务计为纯公益服务，单独统计），再由职员发给有需要的特殊老人（api.grant_from_welfare）。 / R10, R11: donates coins to the public-welfare account for good (reports count the service behind them as pure volunteering); staff grant them to special elders in need (api.grant_from_welfare).
参数 / Arguments:
- person_id: 捐赠人 / the donor
- coins: 整数时间币，1 至 transfer_max_coins（1000）/ whole coins, 1 to transfer_max_coins (1000)
返回 / Returns: 请求编号；由 settlement 工作进程执行（settlement.move），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the settlement worker carries it out (settlement.move), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- person_id R3: 无此人 / no person is registered with this id
- coins R10: 不是 1 至 1000 的整数，或超过捐赠人的可用余额 / not 1 to 1000 whole coins, or more than the donor''s available minutes
- person_id R3: 此人账户已暂停或注销 / the person''s account is suspended or closed
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销、职员不在职，或此人不是在该机构登记的人 / acting as an agent (api.act_as_agent): the institution is withdrawn, its staff member inactive, or the person not registered with it';

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
    PERFORM bank.check_special_elder_category('category', 'R10', category);
    PERFORM bank.check_coins(coins, 'R10');
    IF (SELECT credits_posted - debits_posted - debits_pending FROM bank.account WHERE kind = 'public_welfare') < coins * 60 THEN
        PERFORM bank.refuse('coins', 'R10', format('the grant asks %s coins; the public-welfare account has %s coins available',
            coins, (SELECT (a.credits_posted - a.debits_posted - a.debits_pending) / 60 FROM bank.account a WHERE a.kind = 'public_welfare')));
    END IF;
    RETURN bank.record_staff_act(m, 'grant', bank.submit('grant_from_welfare',
        jsonb_build_object('elder_id', elder_id, 'category', category, 'minutes', coins * 60, 'staff', m.code, 'staff_member_id', m.id),
        'settlement.move', 'settlement'));
END
$$;
COMMENT ON FUNCTION api.grant_from_welfare(text, bigint, text, bigint) IS
'R10：从公益账户向有需要的特殊老人发放时间币；须有 grant 权限，属老人所在区或全市。 / R10: grants coins from the public-welfare account to a special elder in need: the power grant, of the elder''s district or city-level.
参数 / Arguments:
- staff_code: 办理的民政职员代码（bank.staff_member）/ the acting civil-affairs staff member''s code (bank.staff_member)
- elder_id: 已认证的老人 / the authenticated elder
- category: 特殊老人类别（bank.special_elder_category）/ the category of special elder (bank.special_elder_category)
- coins: 整数时间币，1 至 transfer_max_coins（1000）/ whole coins, 1 to transfer_max_coins (1000)
返回 / Returns: 请求编号（此职员行为连同职员编号记入 bank.staff_act）；由 settlement 工作进程执行（settlement.move），结果见 api.request_status / the request''s id (the act recorded with the member''s id in bank.staff_act); the settlement worker carries it out (settlement.move); its outcome is api.request_status.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- staff_code R10: 无此在职职员，或其无 grant 权限 / no active staff member has this code, or it lacks the power grant
- staff_code R10: 职员属其他区：须为老人所在区或全市职员 / the member acts for another district: it must be of the elder''s district, or city-level
- elder_id R3: 无此人 / no person is registered with this id
- elder_id R10: 不是已认证的老人 / not an authenticated elder
- category R10: 无此类别（消息列出有效代码，api.special_elder_categories）/ no such category (the message lists the valid ones, api.special_elder_categories)
- coins R10: 不是 1 至 1000 的整数，或超过公益账户的可用余额 / not 1 to 1000 whole coins, or more than the public-welfare account has
- elder_id R3: 此人账户已暂停或注销 / the person''s account is suspended or closed';

-- R12, R13: a volunteer's earned minutes, star levels and milestone.
CREATE OR REPLACE FUNCTION api.achievements(person_id bigint)
RETURNS TABLE (earned_minutes bigint, milestone text, reached_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.person_for('person_id', person_id);
    RETURN QUERY
    SELECT coalesce(a.earned_minutes, 0), m.milestone, m.reached_at
      FROM (SELECT 1) one
      LEFT JOIN bank.account a ON a.person_id = achievements.person_id
      LEFT JOIN bank.volunteer_milestone m ON m.person_id = achievements.person_id
     ORDER BY m.reached_at, m.milestone;
END
$$;
COMMENT ON FUNCTION api.achievements(bigint) IS
'R12、R13：志愿者累计获得的服务时间，以及达到的星级（100、300、600、1000、1500 小时：star_1 至 star_5）与一万时间币里程碑（coins_10000）。 / R12, R13: a volunteer''s earned minutes, and the star levels (100, 300, 600, 1,000 and 1,500 hours: star_1 to star_5) and the 10,000-coin milestone (coins_10000) reached.
参数 / Arguments:
- person_id: 志愿者 / the volunteer
返回 / Returns: 每个已达到的里程碑一行（按达到时间），earned_minutes 累计获得分钟，milestone 名称，reached_at 达到时间；尚无里程碑时一行，milestone 为 NULL；无账户时 earned_minutes 为 0 / one row per milestone reached (in the order reached): earned_minutes, milestone, reached_at; with none yet, one row whose milestone is NULL; earned_minutes 0 without an account.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- person_id R3: 为空或无此人 / missing, or no person is registered with this id';

-- Issue 19: a statement of account. Each transfer of the person's account
-- in [from_time, to_time), in the ledger's order, with the balances after
-- it, which count every earlier transfer (before the window too). The
-- counterparty is a role, never a name (R23): what the other account is to
-- this one. The same authorisation as api.balance.
CREATE OR REPLACE FUNCTION api.account_statement(person_id bigint, from_time timestamptz, to_time timestamptz)
RETURNS TABLE (transfer_id bigint, at timestamptz, kind text, phase text, amount_minutes bigint, counterparty text,
               service_id bigint, posted_after_minutes bigint, available_after_minutes bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    me bigint;
BEGIN
    PERFORM bank.person_for('person_id', account_statement.person_id);
    IF from_time IS NULL THEN
        PERFORM bank.refuse('from_time', 'R6', 'from_time is required: the window''s start');
    END IF;
    IF to_time IS NULL OR to_time < from_time THEN
        PERFORM bank.refuse('to_time', 'R6', 'to_time is required and not before from_time: the window''s end (excluded)');
    END IF;
    SELECT a.id INTO me FROM bank.account a WHERE a.person_id = account_statement.person_id;
    RETURN QUERY
    WITH mine AS (
        SELECT t.*, t.debit_account_id = me AS outgoing,
               CASE WHEN t.debit_account_id = me THEN t.credit_account_id ELSE t.debit_account_id END AS other_id,
               h.amount AS hold_amount
          FROM bank.transfer t LEFT JOIN bank.transfer h ON h.id = t.pending_id
         WHERE me IS NOT NULL AND (t.debit_account_id = me OR t.credit_account_id = me)
    ), moves AS (
        -- What each transfer does to this account's totals, as
        -- bank.apply_transfers applies it (L4): posted = credits_posted -
        -- debits_posted; available = posted - debits_pending.
        SELECT m.*,
               CASE WHEN m.phase IN ('posted', 'post_pending') THEN CASE WHEN m.outgoing THEN -m.amount ELSE m.amount END ELSE 0 END
                   AS posted_change,
               CASE WHEN NOT m.outgoing THEN 0
                    WHEN m.phase = 'pending' THEN m.amount
                    WHEN m.phase IN ('post_pending', 'void_pending') THEN -m.hold_amount
                    ELSE 0 END AS held_change
          FROM mine m
    ), running AS (
        SELECT v.*, sum(v.posted_change) OVER w AS posted_after, sum(v.posted_change - v.held_change) OVER w AS available_after
          FROM moves v
        WINDOW w AS (ORDER BY v.id ROWS UNBOUNDED PRECEDING)
    )
    SELECT x.id, x.created_at, x.kind,
           CASE x.phase WHEN 'posted' THEN 'posted' WHEN 'pending' THEN 'held' WHEN 'post_pending' THEN 'hold_paid'
                        ELSE 'hold_released' END,
           CASE WHEN x.outgoing THEN -x.amount ELSE x.amount END,
           bank.statement_counterparty(x.kind, o.kind, x.outgoing, account_statement.person_id, o.person_id, o.district_code),
           x.service_id, x.posted_after::bigint, x.available_after::bigint
      FROM running x JOIN bank.account o ON o.id = x.other_id
     WHERE x.created_at >= from_time AND x.created_at < to_time
     ORDER BY x.id;
END
$$;
COMMENT ON FUNCTION api.account_statement(bigint, timestamptz, timestamptz) IS
'账户对账单：某人账户在 [from_time, to_time) 内的每笔转账（按记账先后）：时间、种类、金额、对方（只写角色，不写姓名）、之后的余额（计入窗口之前的全部转账）。与 api.balance 的授权相同。 / A statement of account: each transfer of the person''s account in [from_time, to_time), in the ledger''s order: when, what kind, how much, the counterparty (a role, never a name), and the balances after it (counting every earlier transfer, before the window too). The same authorisation as api.balance.
参数 / Arguments:
- person_id: 账户所属的人 / the account''s person
- from_time: 窗口起点（含）/ the window''s start (included)
- to_time: 窗口终点（不含），不早于 from_time / its end (excluded), not before from_time
返回 / Returns: 每笔转账一行：transfer_id；at 记账时间；kind（grant 区发放 R9、welfare_grant 公益发放 R10、service_hold 需求冻结 R16、service_payment 服务支付、service_release 冻结退回、service_credit 服务所得 R6、gift 赠与 R8、donation 捐赠 R10、service_reversal 冲正 R19）；phase（posted 入账、held 冻结、hold_paid 冻结转支付、hold_released 冻结退回）；amount_minutes 分钟数，转入为正、转出为负（冻结与退回为冻结的金额）；counterparty 对方角色：''district grant <区代码>''、''donation pool''（公益账户）、''elder''、''volunteer''、''service hold''（服务冻结账户）、''relative (<关系>)''（对方对此人的关系，如 relative (parent)）；service_id；posted_after_minutes 之后的已入账余额；available_after_minutes 之后的可用余额。尚无账户时无行 / one row per transfer: transfer_id; at; kind (grant R9, welfare_grant R10, service_hold R16, service_payment, service_release, service_credit R6, gift R8, donation R10, service_reversal R19); phase (posted, held, hold_paid, hold_released); amount_minutes, positive in and negative out (for a hold and its resolution, the amount held or paid); counterparty, a role: ''district grant <code>'', ''donation pool'' (the public-welfare account), ''elder'', ''volunteer'', ''service hold'' (the clearing account a demand''s coins wait in), ''relative (<relation>)'' (what the other is to this person, e.g. relative (parent)); service_id; posted_after_minutes and available_after_minutes, the balances after it. No rows before the account is opened.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- person_id R3: 为空或无此人 / missing, or no person is registered with this id
- from_time R6: 为空 / missing
- to_time R6: 为空或早于 from_time / missing, or before from_time';
