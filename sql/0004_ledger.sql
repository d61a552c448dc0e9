-- 0004: the ledger, on the model of TigerBeetle. Written by the
-- settlement worker's role alone.
--
-- INVARIANTS (checked by constraints and triggers on every write, and
-- re-derived from the transfers by `timebank ledger verify`):
--   L1  Amounts are whole minutes (bigint; 1 coin = 60 minutes, R6), and
--       every transfer moves a positive amount between two different accounts.
--   L2  Transfers are immutable: never updated, never deleted. A mistake is
--       mended by a correcting transfer.
--   L3  Every transfer has a unique idempotency key: doing the same thing
--       twice inserts nothing the second time.
--   L4  An account's four totals (debits/credits, pending/posted) equal the
--       sums of its transfers, kept in the same transaction as the transfer.
--   L5  Double entry: over all accounts, posted debits equal posted credits
--       and pending debits equal pending credits.
--   L6  No account but a district grant account ever has less than zero
--       available (credits_posted - debits_posted - debits_pending >= 0):
--       a hold or payment that would overdraw it is refused by the database.
--   L7  Each kind of transfer joins only the kinds of account it may
--       (bank.apply_transfers): district grant accounts are the only source
--       of coins, paying out only as grants to a person (R9); the
--       public-welfare account receives only donations and pays out only
--       welfare grants to a person (R10). So the coins in all other
--       accounts add up to the coins granted.
--   L8  A pending transfer (a hold) is resolved at most once: posted for at
--       most its amount (the rest goes back), or voided whole.
--   L9  An account's earned minutes are its service credits less service
--       reversals: gifts, grants and donations received are never earnings (R11).
--   L10 Every milestone and star level an account's earnings reached is
--       recorded, once, with its date (R12, R13).
--   L11 A district's grants in a budget period stay within that budget (R9).
--   L12 Every gift goes between relatives whose relationship staff verified (R8;
--       checked by the settlement step and by `ledger verify`).

-- Exclusion constraints that compare ids or codes (=) in a GiST index: budgets here, R20 in 0005.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TYPE bank.account_kind AS ENUM ('personal', 'district_grant', 'service_clearing', 'public_welfare');
COMMENT ON TYPE bank.account_kind IS 'personal: one per person (R3); district_grant: the source of a district''s granted coins (R9); service_clearing: where held coins wait for their service; public_welfare: donations (R10).';

CREATE TABLE bank.account (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            bank.account_kind NOT NULL,
    -- R3: exactly one personal account per person.
    person_id       bigint CONSTRAINT account_one_per_person UNIQUE REFERENCES bank.person,
    -- A district's grant account.
    district_code   text CONSTRAINT account_one_grant_account_per_district UNIQUE REFERENCES bank.district,
    -- L4: the totals of this account's transfers, in minutes.
    debits_pending  bigint NOT NULL DEFAULT 0 CONSTRAINT account_debits_pending_counted CHECK (debits_pending >= 0),
    debits_posted   bigint NOT NULL DEFAULT 0 CONSTRAINT account_debits_posted_counted CHECK (debits_posted >= 0),
    credits_pending bigint NOT NULL DEFAULT 0 CONSTRAINT account_credits_pending_counted CHECK (credits_pending >= 0),
    credits_posted  bigint NOT NULL DEFAULT 0 CONSTRAINT account_credits_posted_counted CHECK (credits_posted >= 0),
    -- L9 (R6, R12, R13): minutes earned by serving: service credits less
    -- reversals; never gifts, grants or donations received (R11).
    earned_minutes  bigint NOT NULL DEFAULT 0 CONSTRAINT account_earned_counted CHECK (earned_minutes >= 0),
    opened_at       timestamptz NOT NULL DEFAULT now(),
    -- A personal account has a person and a grant account a district; the others neither.
    CONSTRAINT account_owner_matches_kind CHECK (
        (kind = 'personal') = (person_id IS NOT NULL) AND (kind = 'district_grant') = (district_code IS NOT NULL)),
    -- L6: nobody spends or holds coins they do not have.
    CONSTRAINT account_available_not_negative CHECK (
        kind = 'district_grant' OR credits_posted - debits_posted - debits_pending >= 0),
    -- L7: a grant account never receives coins.
    CONSTRAINT account_grant_only_pays_out CHECK (
        kind <> 'district_grant' OR (credits_posted = 0 AND credits_pending = 0))
);
COMMENT ON TABLE bank.account IS 'Ledger accounts with their running totals in minutes (1 coin = 60). Available = credits_posted - debits_posted - debits_pending. 账户';
-- The clearing and welfare accounts are one each.
CREATE UNIQUE INDEX account_single_system_account ON bank.account (kind) WHERE kind IN ('service_clearing', 'public_welfare');

INSERT INTO bank.account (kind) VALUES ('service_clearing'), ('public_welfare');
INSERT INTO bank.account (kind, district_code) SELECT 'district_grant', code FROM bank.district ORDER BY code;

CREATE TYPE bank.transfer_phase AS ENUM ('posted', 'pending', 'post_pending', 'void_pending');
COMMENT ON TYPE bank.transfer_phase IS 'posted: final at once; pending: a hold; post_pending: posts a hold (up to its amount, the rest released); void_pending: releases a hold whole.';

CREATE TABLE bank.transfer (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- L3: what makes doing it twice a no-op, e.g. settle:42:payment.
    idempotency_key   text NOT NULL CONSTRAINT transfer_idempotent UNIQUE
                      CONSTRAINT transfer_key_length CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    phase             bank.transfer_phase NOT NULL,
    -- Why: grant (R9: a district to a special elder), service_hold (R16),
    -- service_payment and service_release (the hold's end), service_credit
    -- (R6: to the volunteer), gift (R8), donation (R10: to the public-welfare
    -- account), welfare_grant (R10: from it to a special elder),
    -- service_reversal (R19: an upheld report that a service was not given).
    kind              text NOT NULL CONSTRAINT transfer_kind_known CHECK (kind IN (
                          'grant', 'service_hold', 'service_payment', 'service_release', 'service_credit',
                          'gift', 'donation', 'welfare_grant', 'service_reversal')),
    debit_account_id  bigint NOT NULL REFERENCES bank.account,
    credit_account_id bigint NOT NULL REFERENCES bank.account,
    -- L1: whole minutes, positive.
    amount            bigint NOT NULL CONSTRAINT transfer_amount_positive CHECK (amount > 0),
    -- L8: the hold a post_pending or void_pending resolves; at most once.
    pending_id        bigint CONSTRAINT transfer_hold_resolved_once UNIQUE REFERENCES bank.transfer,
    -- The service it is for (holds, payments, releases, credits).
    service_id        bigint,
    -- R9, R10: a grant's category of special elder.
    grant_category    text REFERENCES bank.special_elder_category,
    -- The client request behind it, when there is one.
    request_id        bigint REFERENCES bank.request,
    created_at        timestamptz NOT NULL DEFAULT now(),
    -- L1: an account does not pay itself.
    CONSTRAINT transfer_between_two_accounts CHECK (debit_account_id <> credit_account_id),
    -- Exactly the resolving phases name a hold.
    CONSTRAINT transfer_resolution_names_hold CHECK ((phase IN ('post_pending', 'void_pending')) = (pending_id IS NOT NULL)),
    -- R9, R10: grants, from a district or from the welfare account, are
    -- posted at once and say to which category of special elder.
    CONSTRAINT transfer_grant_categorised CHECK (
        (kind IN ('grant', 'welfare_grant')) = (grant_category IS NOT NULL) AND (kind NOT IN ('grant', 'welfare_grant') OR phase = 'posted'))
);
COMMENT ON TABLE bank.transfer IS 'The ledger: immutable transfers of minutes between accounts (1 coin = 60). Never updated or deleted. 转账流水';
CREATE INDEX transfer_debit_idx ON bank.transfer (debit_account_id, id);
CREATE INDEX transfer_credit_idx ON bank.transfer (credit_account_id, id);
CREATE INDEX transfer_service_idx ON bank.transfer (service_id) WHERE service_id IS NOT NULL;

-- L2: transfers are immutable, even for the table's owner.
CREATE FUNCTION bank.refuse_transfer_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'L2: transfers are immutable; record a correcting transfer instead'
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER transfer_immutable BEFORE UPDATE OR DELETE ON bank.transfer
    FOR EACH ROW EXECUTE FUNCTION bank.refuse_transfer_change();
CREATE TRIGGER transfer_not_truncated BEFORE TRUNCATE ON bank.transfer
    FOR EACH STATEMENT EXECUTE FUNCTION bank.refuse_transfer_change();

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

-- L4, L7, L8: applies a statement's new transfers to their accounts'
-- totals. Once per statement, aggregated per account, so that a batch of
-- settlements updates each account (the clearing account above all) once;
-- accounts are locked in id order so that concurrent batches cannot
-- deadlock. The account constraints (L6, L7) are checked by the UPDATE.
CREATE FUNCTION bank.apply_transfers() RETURNS trigger
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
CREATE TRIGGER transfer_applied AFTER INSERT ON bank.transfer
    REFERENCING NEW TABLE AS new_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION bank.apply_transfers();

-- Opens a person's account (R3: one per person); returns it either way.
CREATE FUNCTION bank.open_account(person bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    account bigint;
BEGIN
    INSERT INTO bank.account (kind, person_id) VALUES ('personal', person)
    ON CONFLICT (person_id) DO NOTHING
    RETURNING id INTO account;
    IF account IS NULL THEN
        SELECT id INTO account FROM bank.account WHERE person_id = person;
    END IF;
    RETURN account;
END
$$;

CREATE FUNCTION bank.clearing_account() RETURNS bigint
LANGUAGE sql STABLE
RETURN (SELECT id FROM bank.account WHERE kind = 'service_clearing');

-- A person's balance in minutes: available to spend, held for demands, and posted.
CREATE FUNCTION bank.available_minutes(person bigint) RETURNS bigint
LANGUAGE sql STABLE
RETURN coalesce((SELECT credits_posted - debits_posted - debits_pending FROM bank.account WHERE person_id = person), 0);

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

GRANT SELECT, INSERT, UPDATE ON bank.account TO timebank_settlement;
GRANT SELECT, INSERT ON bank.transfer TO timebank_settlement;
GRANT SELECT, INSERT, UPDATE ON bank.district_budget TO timebank_settlement;
GRANT SELECT, INSERT ON bank.volunteer_milestone TO timebank_settlement;
GRANT SELECT ON bank.volunteer_milestone TO timebank_order, timebank_enrollment;
GRANT EXECUTE ON FUNCTION bank.milestone_thresholds() TO timebank_settlement;
