-- reporting: the analysts' functions: age bands, and balances and totals
-- as of any day, from the transfers. timebank_analyst may execute them
-- (sql/privileges/functions.sql).

-- Ages as bands, never birth dates: under 18, 18-29, 30-39 ... 70-79, 80
-- and over (on today's date in Beijing). Self-contained: the analyst runs
-- it and may call nothing in bank.
CREATE OR REPLACE FUNCTION reporting.age_band(birth_date date) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (WITH a AS (SELECT extract(year FROM age((now() AT TIME ZONE 'Asia/Shanghai')::date, birth_date))::integer AS years)
        SELECT CASE WHEN years < 18 THEN 'under 18' WHEN years < 30 THEN '18-29' WHEN years >= 80 THEN '80 and over'
                    ELSE (years / 10 * 10) || '-' || (years / 10 * 10 + 9) END FROM a);
COMMENT ON FUNCTION reporting.age_band(date) IS '年龄段 / an age band: under 18, 18-29, 30-39 ... 70-79, 80 and over';

-- Balances as of the end of a day (Beijing time), from the immutable
-- transfers alone, not from today's totals: posted minutes, and minutes
-- held by holds not yet resolved that day.
CREATE OR REPLACE FUNCTION reporting.balances_as_of(day date)
RETURNS TABLE (account_kind text, holder text, district_code text, posted_minutes bigint, held_minutes bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH cutoff AS (SELECT ((day + 1)::timestamp AT TIME ZONE 'Asia/Shanghai') AS at),
    upto AS (SELECT t.* FROM bank.transfer t, cutoff WHERE t.created_at < cutoff.at),
    moves AS (
        SELECT credit_account_id AS account_id, amount AS posted, 0::bigint AS held FROM upto WHERE phase IN ('posted', 'post_pending')
        UNION ALL
        SELECT debit_account_id, -amount, 0 FROM upto WHERE phase IN ('posted', 'post_pending')
        UNION ALL
        SELECT h.debit_account_id, 0, h.amount FROM upto h
         WHERE h.phase = 'pending' AND NOT EXISTS (SELECT 1 FROM upto r WHERE r.pending_id = h.id))
    SELECT a.kind::text, pp.pseudonym, coalesce(a.district_code, pp.district_code), sum(m.posted)::bigint, sum(m.held)::bigint
      FROM moves m JOIN bank.account a ON a.id = m.account_id
      LEFT JOIN bank.person_pseudonym pp ON pp.person_id = a.person_id
     GROUP BY a.id, a.kind, pp.pseudonym, a.district_code, pp.district_code
$$;
COMMENT ON FUNCTION reporting.balances_as_of(date) IS '某日结束时（北京时间）各账户余额，仅由不可变流水计算 / Every account''s balance at the end of a day (Beijing time), from the immutable transfers: posted and held minutes; holders as pseudonyms.';

CREATE OR REPLACE FUNCTION reporting.totals_as_of(day date)
RETURNS TABLE (account_kind text, accounts bigint, posted_minutes bigint, held_minutes bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT b.account_kind, count(*), sum(b.posted_minutes)::bigint, sum(b.held_minutes)::bigint
      FROM reporting.balances_as_of(day) b GROUP BY b.account_kind
$$;
COMMENT ON FUNCTION reporting.totals_as_of(date) IS '某日结束时各类账户合计 / Totals per kind of account at the end of a day, from the transfers.';
