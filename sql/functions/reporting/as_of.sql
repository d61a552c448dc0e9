-- reporting: the analysts' functions: age bands, the smallest group shown,
-- and balances and totals as of any day, from the transfers, in groups.
-- timebank_analyst may execute these (sql/privileges/functions.sql); rows
-- per account are timebank_analyst_detail's (detail.sql), recorded.

-- Ages as bands, never birth dates: under 18, 18-29, 30-39 ... 70-79, 80
-- and over (on today's date in Beijing). Self-contained: the analyst runs
-- it and may call nothing in bank.
CREATE OR REPLACE FUNCTION reporting.age_band(birth_date date) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (WITH a AS (SELECT extract(year FROM age((now() AT TIME ZONE 'Asia/Shanghai')::date, birth_date))::integer AS years)
        SELECT CASE WHEN years < 18 THEN 'under 18' WHEN years < 30 THEN '18-29' WHEN years >= 80 THEN '80 and over'
                    ELSE (years / 10 * 10) || '-' || (years / 10 * 10 + 9) END FROM a);
COMMENT ON FUNCTION reporting.age_band(date) IS '年龄段 / an age band: under 18, 18-29, 30-39 ... 70-79, 80 and over';

-- R23: k, the fewest distinct people a cell shown to analysts may describe
-- (the setting reporting_min_group_size, sql/migrations/0023). The views
-- call it with their reader's rights, hence SECURITY DEFINER: the analyst
-- learns k, never the setting table. Missing, it is 5; never below 1.
CREATE OR REPLACE FUNCTION reporting.min_group_size() RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN (SELECT greatest(coalesce(max(s.value), 5), 1) FROM bank.setting s WHERE s.name = 'reporting_min_group_size');
COMMENT ON FUNCTION reporting.min_group_size() IS '最小分组人数 k：少于 k 人的分组不向分析人员显示 / k: cells of fewer than k people are not shown to analysts (setting reporting_min_group_size, default 5)';

-- Every account's balance at the end of a day (Beijing time), from the
-- immutable transfers, not from today's totals: posted minutes, and
-- minutes held by holds not yet resolved that day. With the person: the
-- owner's alone (no role executes it); the functions below group it.
-- Issue 18: from the latest balance snapshot at or before the day
-- (bank.balance_snapshot, 0033) plus the transfers created after it up to
-- the day's end (a range of the created_at index), or from every
-- transfer when no snapshot is that old; so a day a year back costs a
-- day's snapshot and a day's transfers, not a year of them. An account is
-- listed once it has a posted transfer, or while it holds an open hold,
-- as when every transfer was summed. ReportingTests compares the two.
CREATE OR REPLACE FUNCTION reporting.account_balances(day date)
RETURNS TABLE (account_id bigint, account_kind text, person_id bigint, district_code text, posted_minutes bigint, held_minutes bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    base date := (SELECT max(s.day) FROM bank.balance_snapshot_day s WHERE s.day <= account_balances.day);
BEGIN
    -- EXECUTE: planned for this call's bounds: a day's range of the
    -- created_at index after a snapshot, the whole table without one (a
    -- generic plan, not knowing which, took minutes on a year of history).
    RETURN QUERY EXECUTE format($q$
        WITH moves AS (
            SELECT s.account_id, s.credits_posted - s.debits_posted AS posted, s.debits_pending AS held, s.posted_transfers AS n
              FROM bank.balance_snapshot s WHERE s.day = %1$L::date
            UNION ALL
            SELECT v.account_id, v.c_posted - v.d_posted, v.d_pending, v.posted
              FROM bank.transfer_moves(%2$L::timestamptz, %3$L::timestamptz) v)
        SELECT a.id, a.kind::text, a.person_id, coalesce(a.district_code, p.district_code), sum(m.posted)::bigint, sum(m.held)::bigint
          FROM moves m JOIN bank.account a ON a.id = m.account_id
          LEFT JOIN bank.person p ON p.id = a.person_id
         GROUP BY a.id, a.kind, a.person_id, a.district_code, p.district_code
        HAVING sum(m.n) > 0 OR sum(m.held) > 0
        $q$, base, coalesce(bank.day_end(base), '-infinity'), bank.day_end(day));
END
$$;
COMMENT ON FUNCTION reporting.account_balances(date) IS '某日结束时各账户余额（含人员编号，仅供内部汇总）/ Every account''s balance at the end of a day, from the transfers, with its person: for the grouped functions only, executed by no role.';

-- R23: balances at the end of a day by kind of account and district, with
-- the number of accounts. Personal accounts are people: a district with
-- fewer than k of them is left out, and when those left out number fewer
-- than k in all, so is the next smallest district (totals_as_of publishes
-- the city's personal total: the parent group). Institutional accounts (a
-- district's grant account, public welfare, clearing) are shown always.
CREATE OR REPLACE FUNCTION reporting.balances_by_district_as_of(day date)
RETURNS TABLE (account_kind text, district_code text, accounts bigint, posted_minutes bigint, held_minutes bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH cell AS (
        SELECT b.account_kind, b.district_code, count(*) AS accounts, sum(b.posted_minutes)::bigint AS posted, sum(b.held_minutes)::bigint AS held,
               CASE WHEN b.account_kind = 'personal' THEN count(*) END AS people
          FROM reporting.account_balances(day) b GROUP BY b.account_kind, b.district_code),
    ranked AS (
        SELECT cell.*, k.k, coalesce(cell.people < k.k, false) AS small,
               coalesce(sum(cell.people) FILTER (WHERE cell.people < k.k) OVER (PARTITION BY cell.account_kind), 0) AS left_out,
               row_number() OVER (PARTITION BY cell.account_kind, coalesce(cell.people < k.k, false)
                                  ORDER BY cell.people, cell.district_code) AS nth
          FROM cell CROSS JOIN (SELECT reporting.min_group_size() AS k) k)
    SELECT r.account_kind, r.district_code, r.accounts, r.posted, r.held
      FROM ranked r
     WHERE NOT r.small AND NOT (r.people IS NOT NULL AND r.left_out > 0 AND r.left_out < r.k AND r.nth = 1)
     ORDER BY 1, 2
$$;
COMMENT ON FUNCTION reporting.balances_by_district_as_of(date) IS '某日结束时（北京时间）按账户类型与区的余额合计，仅由不可变流水计算；个人账户少于 k 个的区不显示 / Balances at the end of a day (Beijing time) by kind of account and district, from the immutable transfers: accounts, posted and held minutes; districts with fewer than k personal accounts are not shown.';

-- Totals per kind of account at the end of a day; the personal accounts'
-- row only when there are k of them or more.
CREATE OR REPLACE FUNCTION reporting.totals_as_of(day date)
RETURNS TABLE (account_kind text, accounts bigint, posted_minutes bigint, held_minutes bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT b.account_kind, count(*), sum(b.posted_minutes)::bigint, sum(b.held_minutes)::bigint
      FROM reporting.account_balances(day) b GROUP BY b.account_kind
    HAVING b.account_kind <> 'personal' OR count(*) >= reporting.min_group_size()
$$;
COMMENT ON FUNCTION reporting.totals_as_of(date) IS '某日结束时各类账户合计；个人账户少于 k 个时不显示 / Totals per kind of account at the end of a day, from the transfers; the personal accounts'' only when there are k or more.';
