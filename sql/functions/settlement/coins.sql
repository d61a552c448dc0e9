-- settlement-worker (timebank_settlement), the only writer of the ledger:
-- accounts, R9 grants within districts' budgets, elders' holds and their
-- release (R16), budgets, and R8/R10 gifts and donations.

CREATE OR REPLACE FUNCTION bank.settlement_open_account(person bigint) RETURNS void
LANGUAGE sql
BEGIN ATOMIC
    SELECT bank.open_account(person);
END;

-- R9: a district grants coins to a special elder.
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

-- R16: holds the elder's coins for a demand before the service exists,
-- so that two demands cannot spend the same coins: the second hold that
-- would overdraw the account is refused by its constraint (L6).
CREATE OR REPLACE FUNCTION bank.settlement_hold(request_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r bank.request := bank.pending_request(request_id);
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
LANGUAGE plpgsql AS $$
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
-- R8 gifts, R10 donations and welfare grants: posted transfers between
-- people and the public-welfare account. A transfer that would overdraw
-- its payer is refused by L6 and ends the request refused.

CREATE OR REPLACE FUNCTION bank.settlement_move(request_id bigint) RETURNS void
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
