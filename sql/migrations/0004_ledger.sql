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