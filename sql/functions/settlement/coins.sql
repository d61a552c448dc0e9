-- settlement-worker (timebank_settlement), the only writer of the ledger:
-- accounts, R9 grants within districts' budgets, elders' holds and their
-- release (R16), budgets, and R8/R10 gifts and donations.

CREATE OR REPLACE FUNCTION bank.settlement_open_account(person bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT bank.open_account(person);
END;

-- R9: a district grants coins to a special elder. The api checked the
-- grant when it recorded the request; the step checks it again from the
-- authoritative rows, under the request's and the budget's locks (issue
-- 15: the ledger trusts no argument another role could have written): the
-- person is an authenticated elder of the budget's district, the category
-- exists and fits, the amount is whole coins within grant_max_coins, and
-- the district's budget for today has it left.
CREATE OR REPLACE FUNCTION bank.settlement_grant(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['grant_coins']);
    minutes bigint;
    elder bank.person;
    budget bank.district_budget;
    transfer bigint;
    refusal text;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    minutes := (r.args->>'minutes')::bigint;
    SELECT * INTO elder FROM bank.person p WHERE p.id = (r.args->>'elder_id')::bigint;
    refusal := CASE
        WHEN NOT EXISTS (SELECT 1 FROM bank.elder e WHERE e.person_id = elder.id) THEN
            'R9: coins are granted to authenticated elders only'
        WHEN elder.status <> 'active' THEN 'R9: the elder''s account is suspended or closed'
        WHEN elder.district_code IS DISTINCT FROM r.args->>'district_code' THEN
            'R9: a district grants coins to the elders of its own district only'
        WHEN NOT EXISTS (SELECT 1 FROM bank.special_elder_category c WHERE c.code = r.args->>'category') THEN
            'R9: no category of special elder is called ' || coalesce(r.args->>'category', 'NULL')
        WHEN r.args->>'category' = 'very_old' AND bank.age(elder.birth_date, bank.local_today()) < bank.setting('very_old_min_age') THEN
            'R9: the very old are ' || bank.setting('very_old_min_age') || ' or over'
        WHEN NOT bank.whole_coins_within(minutes, bank.setting('grant_max_coins')) THEN
            'R9: a grant is 1 to ' || bank.setting('grant_max_coins') || ' whole coins'
    END;
    IF refusal IS NOT NULL THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, refusal);
        RETURN;
    END IF;
    SELECT * INTO budget FROM bank.district_budget b
     WHERE b.district_code = elder.district_code AND b.period @> bank.local_today() FOR UPDATE;
    IF budget.id IS NULL OR budget.granted_minutes + minutes > budget.budget_minutes THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R9: the grant exceeds what remains of the district''s budget for this period');
        RETURN;
    END IF;
    UPDATE bank.district_budget SET granted_minutes = granted_minutes + minutes WHERE id = budget.id;
    INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, grant_category, request_id)
    SELECT 'grant:' || r.id, 'posted', 'grant', g.id, bank.open_account(elder.id), minutes, r.args->>'category', r.id
      FROM bank.account g WHERE g.district_code = elder.district_code
    RETURNING id INTO transfer;
    PERFORM bank.finish_request(r.id, 'completed', jsonb_build_object('transfer_id', transfer));
END
$$;

-- R16: holds the elder's coins for a demand before the service exists,
-- so that two demands cannot spend the same coins: the second hold that
-- would overdraw the account is refused by its constraint (L6).
CREATE OR REPLACE FUNCTION bank.settlement_hold(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['publish_demand']);
    violated text;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    BEGIN
        INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, request_id)
        VALUES ('hold:' || r.id, 'pending', 'service_hold', bank.open_account((r.args->>'elder_id')::bigint),
                bank.clearing_account(), (r.args->>'minutes')::bigint, r.id);
    EXCEPTION WHEN check_violation THEN
        GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
        IF violated IS DISTINCT FROM 'account_available_not_negative' THEN RAISE; END IF;
        PERFORM bank.finish_request(r.id, 'refused', NULL,
            'R16: the elder has not enough available coins for this demand (others are held for earlier demands)');
        RETURN;
    END;
    PERFORM jobs.enqueue('order.create_service', jsonb_build_object('id', r.id), 'order');
END
$$;

-- Releases a service's hold whole (rejected, cancelled, expired, no-show).
CREATE OR REPLACE FUNCTION bank.settlement_release(wanted bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service;
BEGIN
    SELECT * INTO s FROM bank.service WHERE id = wanted FOR UPDATE;
    IF s.hold_released_at IS NOT NULL OR s.settled_at IS NOT NULL
       OR s.status NOT IN ('rejected', 'cancelled', 'expired', 'no_show') THEN
        RETURN;
    END IF;
    INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, pending_id, service_id)
    SELECT 'release:' || s.id, 'void_pending', 'service_release', h.debit_account_id, h.credit_account_id, h.amount, h.id, s.id
      FROM bank.transfer h WHERE h.id = s.hold_transfer_id;
    UPDATE bank.service SET hold_released_at = now() WHERE id = s.id;
END
$$;

CREATE OR REPLACE FUNCTION bank.settlement_set_budget(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['set_district_budget']);
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
-- R8 gifts, R10 donations and welfare grants: posted transfers between
-- people and the public-welfare account. A transfer that would overdraw
-- its payer is refused by L6 and ends the request refused.

CREATE OR REPLACE FUNCTION bank.settlement_move(request_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r bank.request := bank.pending_request(request_id, ARRAY['gift_coins', 'donate_coins', 'grant_from_welfare']);
    kind text;
    minutes bigint := (r.args->>'minutes')::bigint;
    payer bigint;
    payee bigint;
    transfer bigint;
    violated text;
BEGIN
    IF r.id IS NULL THEN RETURN; END IF;
    kind := r.kind;
    -- Re-derived here as the api derived them (issue 15): whole coins
    -- within the limit, to and from the people the rules allow.
    IF NOT bank.whole_coins_within(minutes, bank.setting('transfer_max_coins')) THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, CASE kind WHEN 'gift_coins' THEN 'R8' ELSE 'R10' END
            || ': a transfer is 1 to ' || bank.setting('transfer_max_coins') || ' whole coins');
        RETURN;
    END IF;
    IF kind = 'grant_from_welfare' AND (NOT EXISTS (SELECT 1 FROM bank.elder e WHERE e.person_id = (r.args->>'elder_id')::bigint)
                                        OR NOT EXISTS (SELECT 1 FROM bank.special_elder_category c WHERE c.code = r.args->>'category')) THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R10: welfare coins go to authenticated elders of a known category only');
        RETURN;
    END IF;
    IF kind = 'donate_coins' AND NOT EXISTS (SELECT 1 FROM bank.person p WHERE p.id = (r.args->>'person_id')::bigint) THEN
        PERFORM bank.finish_request(r.id, 'refused', NULL, 'R10: no person is registered with id ' || coalesce(r.args->>'person_id', 'NULL'));
        RETURN;
    END IF;
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
    ELSE  -- grant_from_welfare (bank.pending_request served no other kind)
        SELECT id INTO payer FROM bank.account WHERE account.kind = 'public_welfare';
        payee := bank.open_account((r.args->>'elder_id')::bigint);
    END IF;
    BEGIN
        INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, grant_category, request_id)
        VALUES (kind || ':' || r.id, 'posted',
                CASE kind WHEN 'gift_coins' THEN 'gift' WHEN 'donate_coins' THEN 'donation' ELSE 'welfare_grant' END,
                payer, payee, minutes, r.args->>'category', r.id)
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
