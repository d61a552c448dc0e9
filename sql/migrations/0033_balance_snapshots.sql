-- 0033 (issue 18, item 4): daily balance snapshots, so that a balance as
-- of a day, and `ledger verify`, read a snapshot plus the transfers after
-- it instead of every transfer since the bank opened.
--
-- Design: a snapshot of day D holds, for every account that had any
-- transfer before D's end (midnight, Beijing time), the totals of all its
-- transfers created before that instant: the four totals of bank.account
-- (L4), the earned minutes (L9), and how many posted transfers it took
-- part in (the as-of answers list an account once it has one, or a hold
-- still open). One row per account per day, not only per account changed
-- that day: the answer for a day is then one day's rows (an index range),
-- not a search of every account's last change, so its cost does not grow
-- with the years behind it. (A row per account per day is as many rows as
-- accounts each day: Beijing's ~3M accounts a day, ~1B rows a year, about
-- as many as its transfers; the monthly partitioning of issue 18 would
-- drop or thin old days as it drops old transfers.)
--
-- Day D is snapshotted from day D-1's snapshot and D's transfers, once D
-- ended more than snapshot_delay_minutes ago (a transfer whose
-- transaction began before midnight and committed after is still
-- counted in D: created_at is its transaction's start); days are taken in
-- order, none skipped. Written by bank.take_balance_snapshots (the owner's,
-- `timebank ledger snapshot` and the settlement worker's daily job);
-- never updated or deleted (triggers in sql/functions/bank/snapshots.sql);
-- `ledger verify --full` re-derives every snapshot from the transfers.

-- Transfers by time: a day's transfers, for the snapshot of the day and
-- the as-of answers after it (a range instead of the whole table), and
-- what the monthly partitions will be keyed on.
CREATE INDEX transfer_created_idx ON bank.transfer (created_at);

-- One row per snapshotted day: what the day's snapshot counts.
CREATE TABLE bank.balance_snapshot_day (
    day                 date PRIMARY KEY,
    -- The day's end, Beijing time: the snapshot counts the transfers created before it.
    cutoff              timestamptz NOT NULL,
    -- How many transfers it counts, the largest id among them, and the
    -- minutes granted by districts up to then (L7's total, kept here so
    -- that an incremental verify needs no sum over every grant).
    transfers           bigint NOT NULL CONSTRAINT balance_snapshot_day_transfers_counted CHECK (transfers >= 0),
    through_transfer_id bigint NOT NULL,
    granted_minutes     bigint NOT NULL CONSTRAINT balance_snapshot_day_granted_counted CHECK (granted_minutes >= 0),
    taken_at            timestamptz NOT NULL DEFAULT now(),
    -- A day is snapshotted only after it ended.
    CONSTRAINT balance_snapshot_day_after_its_end CHECK (taken_at >= cutoff)
);
COMMENT ON TABLE bank.balance_snapshot_day IS 'Each day whose balances were snapshotted (bank.balance_snapshot): its end, how many transfers it counts, the minutes granted so far. Immutable. 每日余额快照（日）';

-- One row per account per snapshotted day (from the account's first transfer on).
CREATE TABLE bank.balance_snapshot (
    day              date NOT NULL REFERENCES bank.balance_snapshot_day,
    account_id       bigint NOT NULL REFERENCES bank.account,
    -- L4: the totals of the account's transfers created before the day's end.
    debits_pending   bigint NOT NULL,
    debits_posted    bigint NOT NULL,
    credits_pending  bigint NOT NULL,
    credits_posted   bigint NOT NULL,
    -- L9: service credits less reversals, up to then.
    earned_minutes   bigint NOT NULL,
    -- Posted transfers it took part in (either side), up to then.
    posted_transfers bigint NOT NULL,
    PRIMARY KEY (day, account_id),
    -- Totals of positive amounts, and holds never resolved for more than they held.
    CONSTRAINT balance_snapshot_totals_counted CHECK (
        debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 AND credits_posted >= 0 AND posted_transfers >= 0)
);
COMMENT ON TABLE bank.balance_snapshot IS 'Every account''s transfer totals at the end of each snapshotted day (Beijing time), from the transfers: what as-of balances and an incremental ledger verify start from. Immutable. 每日余额快照';

-- What each `ledger verify` covered: full (every transfer re-derived,
-- every snapshot with it) or incremental (from the last verified
-- snapshot), and the latest snapshot day it checked: the next incremental
-- run starts from there.
ALTER TABLE bank.ledger_verify_run
    ADD COLUMN mode text NOT NULL DEFAULT 'full'
        -- The two ways to verify: everything, or from a verified snapshot on.
        CONSTRAINT ledger_verify_run_mode_known CHECK (mode IN ('full', 'incremental')),
    ADD COLUMN snapshot_day date,
    ADD COLUMN from_day date,
    -- An incremental run starts from a day no later than the last it checked.
    ADD CONSTRAINT ledger_verify_run_from_before_to CHECK (from_day IS NULL OR (mode = 'incremental' AND from_day <= snapshot_day));
COMMENT ON COLUMN bank.ledger_verify_run.mode IS 'full: every transfer and snapshot re-derived; incremental: from the snapshot of from_day on. 核对方式';
COMMENT ON COLUMN bank.ledger_verify_run.snapshot_day IS 'The latest balance snapshot the run checked (an incremental run starts from the last verified one). 已核对至快照日';

INSERT INTO bank.setting (name, value, description) VALUES
    ('snapshot_delay_minutes', 60, 'Issue 18 (ours): how long after a day''s end (Beijing) its balances are snapshotted, so that transfers of transactions begun before midnight are in');

-- The record's new columns: its function takes them (the old one is dropped; sql/functions/bank/ledger_verify.sql).
DROP FUNCTION IF EXISTS bank.record_ledger_verify(jsonb);

-- The services whose state may still change without a transfer (not yet
-- settled nor released): an incremental `ledger verify` checks these and
-- the services of the transfers since its last verified snapshot, not
-- every service of the history.
CREATE INDEX service_unfinished_idx ON bank.service (id) WHERE settled_at IS NULL AND hold_released_at IS NULL;

-- bank.verify_ledger() takes whether to verify in full (sql/functions/bank/ledger_verify.sql).
DROP FUNCTION IF EXISTS bank.verify_ledger();
