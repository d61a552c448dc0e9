-- bank: daily balance snapshots (sql/migrations/0033 states the design):
-- written by bank.take_balance_snapshots, a day at a time in order,
-- never changed; read by reporting.account_balances and `ledger verify`.

-- Snapshots are immutable, even for the table's owner, as transfers are
-- (L2): a wrong one is found by `ledger verify --full`, not mended in place.
CREATE OR REPLACE FUNCTION bank.refuse_snapshot_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'balance snapshots are immutable (%): they are re-derived by ledger verify --full, never changed', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE OR REPLACE TRIGGER balance_snapshot_immutable BEFORE UPDATE OR DELETE ON bank.balance_snapshot
    FOR EACH ROW EXECUTE FUNCTION bank.refuse_snapshot_change();
CREATE OR REPLACE TRIGGER balance_snapshot_not_truncated BEFORE TRUNCATE ON bank.balance_snapshot
    FOR EACH STATEMENT EXECUTE FUNCTION bank.refuse_snapshot_change();
CREATE OR REPLACE TRIGGER balance_snapshot_day_immutable BEFORE UPDATE OR DELETE ON bank.balance_snapshot_day
    FOR EACH ROW EXECUTE FUNCTION bank.refuse_snapshot_change();
CREATE OR REPLACE TRIGGER balance_snapshot_day_not_truncated BEFORE TRUNCATE ON bank.balance_snapshot_day
    FOR EACH STATEMENT EXECUTE FUNCTION bank.refuse_snapshot_change();

-- The instant a day (Beijing) ends.
CREATE OR REPLACE FUNCTION bank.day_end(day date) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ((day + 1)::timestamp AT TIME ZONE 'Asia/Shanghai');

-- What transfers do to their accounts' totals, a row per account and
-- side: as bank.apply_transfers adds them up (L4: a resolution takes its
-- hold's whole amount off pending, L9: credits and reversals are
-- earnings), and whether it was posted. For the transfers created in
-- [since, until), with the day (Beijing) each was created on.
CREATE OR REPLACE FUNCTION bank.transfer_moves(since timestamptz, until timestamptz)
RETURNS TABLE (account_id bigint, day date, d_pending bigint, d_posted bigint, c_pending bigint, c_posted bigint, earned bigint,
               posted bigint, granted bigint)
LANGUAGE sql STABLE AS $$
    SELECT t.debit_account_id, (t.created_at AT TIME ZONE 'Asia/Shanghai')::date,
           CASE t.phase WHEN 'pending' THEN t.amount WHEN 'posted' THEN 0 ELSE -h.amount END,
           CASE WHEN t.phase IN ('posted', 'post_pending') THEN t.amount ELSE 0 END, 0, 0,
           CASE WHEN t.kind = 'service_reversal' THEN -t.amount ELSE 0 END,
           CASE WHEN t.phase IN ('posted', 'post_pending') THEN 1 ELSE 0 END,
           CASE WHEN t.kind = 'grant' THEN t.amount ELSE 0 END
      FROM bank.transfer t LEFT JOIN bank.transfer h ON h.id = t.pending_id
     WHERE t.created_at >= since AND t.created_at < until
    UNION ALL
    SELECT t.credit_account_id, (t.created_at AT TIME ZONE 'Asia/Shanghai')::date, 0, 0,
           CASE t.phase WHEN 'pending' THEN t.amount WHEN 'posted' THEN 0 ELSE -h.amount END,
           CASE WHEN t.phase IN ('posted', 'post_pending') THEN t.amount ELSE 0 END,
           CASE WHEN t.kind = 'service_credit' THEN t.amount ELSE 0 END,
           CASE WHEN t.phase IN ('posted', 'post_pending') THEN 1 ELSE 0 END, 0
      FROM bank.transfer t LEFT JOIN bank.transfer h ON h.id = t.pending_id
     WHERE t.created_at >= since AND t.created_at < until
$$;

-- Snapshots every day not yet snapshotted, in order, from the day of the
-- first transfer (or the day after the last snapshot) up to `up_to` (at
-- most the last day that ended snapshot_delay_minutes ago): each from the
-- day before's snapshot plus its own transfers. Returns the days taken.
-- Idempotent: a second run finds nothing to take; two at once are
-- serialised by a lock on the day table. `timebank ledger snapshot` and
-- the settlement worker's daily ledger.snapshot job call it.
CREATE OR REPLACE FUNCTION bank.take_balance_snapshots(up_to date DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    last_day date;
    newest date := ((now() - bank.setting('snapshot_delay_minutes') * interval '1 minute') AT TIME ZONE 'Asia/Shanghai')::date - 1;
    d date;
    taken integer := 0;
BEGIN
    LOCK TABLE bank.balance_snapshot_day IN SHARE ROW EXCLUSIVE MODE;
    IF up_to IS NOT NULL AND up_to < newest THEN newest := up_to; END IF;
    SELECT max(s.day) INTO last_day FROM bank.balance_snapshot_day s;
    d := coalesce(last_day + 1, (SELECT (min(t.created_at) AT TIME ZONE 'Asia/Shanghai')::date FROM bank.transfer t));
    WHILE d IS NOT NULL AND d <= newest LOOP
        -- EXECUTE: planned for this day's bounds (a cached generic plan would
        -- not know the range is one day of the created_at index).
        EXECUTE format($q$
            INSERT INTO bank.balance_snapshot_day (day, cutoff, transfers, through_transfer_id, granted_minutes)
            SELECT %1$L::date, bank.day_end(%1$L::date), coalesce(p.transfers, 0) + n.transfers,
                   greatest(coalesce(p.through_transfer_id, 0), n.through), coalesce(p.granted_minutes, 0) + n.granted
              FROM (SELECT count(*) AS transfers, coalesce(max(t.id), 0) AS through,
                           coalesce(sum(t.amount) FILTER (WHERE t.kind = 'grant'), 0) AS granted
                      FROM bank.transfer t
                     WHERE t.created_at >= %3$L::timestamptz AND t.created_at < %4$L::timestamptz) n
              LEFT JOIN bank.balance_snapshot_day p ON p.day = %2$L::date
            $q$, d, last_day, coalesce(bank.day_end(last_day), '-infinity'), bank.day_end(d));
        EXECUTE format($q$
            INSERT INTO bank.balance_snapshot (day, account_id, debits_pending, debits_posted, credits_pending, credits_posted,
                                               earned_minutes, posted_transfers)
            SELECT %1$L::date, m.account_id, sum(m.d_pending), sum(m.d_posted), sum(m.c_pending), sum(m.c_posted), sum(m.earned), sum(m.posted)
              FROM (SELECT s.account_id, s.debits_pending AS d_pending, s.debits_posted AS d_posted, s.credits_pending AS c_pending,
                           s.credits_posted AS c_posted, s.earned_minutes AS earned, s.posted_transfers AS posted
                      FROM bank.balance_snapshot s WHERE s.day = %2$L::date
                    UNION ALL
                    SELECT v.account_id, v.d_pending, v.d_posted, v.c_pending, v.c_posted, v.earned, v.posted
                      FROM bank.transfer_moves(%3$L::timestamptz, %4$L::timestamptz) v) m
             GROUP BY m.account_id
             ORDER BY m.account_id
            $q$, d, last_day, coalesce(bank.day_end(last_day), '-infinity'), bank.day_end(d));
        last_day := d;
        d := d + 1;
        taken := taken + 1;
    END LOOP;
    RETURN taken;
END
$$;
COMMENT ON FUNCTION bank.take_balance_snapshots(date) IS 'Snapshots every account''s totals at the end of each day not yet snapshotted, in order, up to the last day that ended snapshot_delay_minutes ago (or up_to); returns the days taken.';
