-- bank: the ledger's machinery (sql/migrations/0004_ledger.sql states its
-- invariants L1-L12): transfers are immutable (L2), every insert applies
-- to the accounts' totals in the same statement (L4), accounts are opened
-- once, and what a person can spend (available minutes). Run by the
-- settlement worker's role alone.

-- L2: transfers are immutable, even for the table's owner.
CREATE OR REPLACE FUNCTION bank.refuse_transfer_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'L2: transfers are immutable; record a correcting transfer instead'
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE OR REPLACE TRIGGER transfer_immutable BEFORE UPDATE OR DELETE ON bank.transfer
    FOR EACH ROW EXECUTE FUNCTION bank.refuse_transfer_change();
CREATE OR REPLACE TRIGGER transfer_not_truncated BEFORE TRUNCATE ON bank.transfer
    FOR EACH STATEMENT EXECUTE FUNCTION bank.refuse_transfer_change();

-- The milestones and the earned minutes each needs (from bank.setting).
CREATE OR REPLACE FUNCTION bank.milestone_thresholds() RETURNS TABLE (milestone text, minutes bigint)
LANGUAGE sql STABLE AS $$
    SELECT 'star_' || substr(name, 6, 1), value::bigint * 60 FROM bank.setting WHERE name ~ '^star_[1-5]_hours$'
    UNION ALL
    SELECT 'coins_10000', value::bigint * 60 FROM bank.setting WHERE name = 'milestone_coins'
$$;

-- L4, L7, L8: applies a statement's new transfers to their accounts'
-- totals. Once per statement, aggregated per account, so that a batch of
-- settlements updates each account once; accounts are locked in id order
-- so that concurrent batches cannot deadlock. The account constraints (L6,
-- L7) are checked by the UPDATE. The service_clearing account is neither
-- locked nor updated (0029): every settlement batch passes through it, and
-- its row would make every batch of every process wait its turn; its
-- totals are derived from its transfers by ledger verify instead.
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
       AND a.kind <> 'service_clearing'
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
         WHERE a.id = t.account_id AND a.kind <> 'service_clearing'
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
CREATE OR REPLACE TRIGGER transfer_applied AFTER INSERT ON bank.transfer
    REFERENCING NEW TABLE AS new_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION bank.apply_transfers();

-- Opens a person's account (R3: one per person); returns it either way.
CREATE OR REPLACE FUNCTION bank.open_account(person bigint) RETURNS bigint
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

CREATE OR REPLACE FUNCTION bank.clearing_account() RETURNS bigint
LANGUAGE sql STABLE
RETURN (SELECT id FROM bank.account WHERE kind = 'service_clearing');

-- A person's balance in minutes: available to spend, held for demands, and posted.
CREATE OR REPLACE FUNCTION bank.available_minutes(person bigint) RETURNS bigint
LANGUAGE sql STABLE
RETURN coalesce((SELECT credits_posted - debits_posted - debits_pending FROM bank.account WHERE person_id = person), 0);

-- Whether `minutes` are 1 to `max_coins` whole coins: what the steps re-derive
-- (issue 15) of a grant, gift, donation or welfare grant the api checked in coins.
CREATE OR REPLACE FUNCTION bank.whole_coins_within(minutes bigint, max_coins integer) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(minutes BETWEEN 60 AND max_coins::bigint * 60 AND minutes % 60 = 0, false);

-- Checks common to gifts, donations and welfare grants: whole coins within the limit.
CREATE OR REPLACE FUNCTION bank.check_coins(coins bigint, rule text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF coins IS NULL OR coins < 1 OR coins > bank.setting('transfer_max_coins') THEN
        PERFORM bank.refuse('coins', rule, 'a transfer is 1 to ' || bank.setting('transfer_max_coins') || ' whole coins');
    END IF;
END
$$;

-- A statement's counterparty (api.account_statement): what the other
-- account of a transfer is to this person, as a role, never a name (R23):
-- a district's grant account, the donation pool (R10), the elder or the
-- volunteer of a service, the clearing account a demand's coins wait in,
-- or a relative by relation (R8: what the other is to this person).
CREATE OR REPLACE FUNCTION bank.statement_counterparty(kind text, other_kind bank.account_kind, outgoing boolean, me bigint,
                                                       other bigint, other_district text) RETURNS text
LANGUAGE sql STABLE
RETURN CASE
    WHEN other_kind = 'district_grant' THEN 'district grant ' || other_district
    WHEN other_kind = 'public_welfare' THEN 'donation pool'
    WHEN other_kind = 'service_clearing' THEN CASE kind WHEN 'service_credit' THEN 'elder' WHEN 'service_payment' THEN 'volunteer'
                                                         ELSE 'service hold' END
    WHEN kind = 'service_reversal' THEN CASE WHEN outgoing THEN 'elder' ELSE 'volunteer' END
    WHEN kind = 'gift' THEN 'relative (' || coalesce(
        (SELECT r.relation FROM bank.relationship r WHERE r.person_id = me AND r.relative_id = other),
        (SELECT k.inverse FROM bank.relationship r JOIN bank.relation_kind k ON k.code = r.relation
          WHERE r.person_id = other AND r.relative_id = me),
        'lineal') || ')'
    ELSE 'person'
END;
