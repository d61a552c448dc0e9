-- reporting, per pseudonym (issue 15, finding 8; R23): the rows analysts
-- no longer see, for timebank_analyst_detail alone (sql/migrations/0023;
-- sql/privileges/functions.sql), each read recorded.
--
-- Each function refuses a read without a purpose, reads as its owner
-- (SECURITY DEFINER), then records who (session_user: a SET ROLE does not
-- hide the login), when, which function, its arguments and the rows it
-- returned in bank.reporting_detail_read, which the detail role can neither
-- read nor change. A transaction rolled back takes its record row with it,
-- so the record is kept twice: the row's number comes from a sequence,
-- which no rollback rewinds (bank.reporting_detail_read_gaps lists the
-- numbers missing), and the whole record goes to the server log (RAISE
-- LOG; log_min_messages is a superuser's setting, so no reader silences
-- it). A read on a read-only replica cannot be recorded and is refused by
-- PostgreSQL: detail is read on the primary.

-- R23: a reason, or no read.
CREATE OR REPLACE FUNCTION reporting.detail_purpose_given(purpose text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF purpose IS NULL OR length(btrim(purpose)) NOT BETWEEN 1 AND 500 THEN
        PERFORM bank.refuse('purpose', 'R23', 'a read of rows per pseudonym states its purpose (1 to 500 characters)');
    END IF;
END
$$;
COMMENT ON FUNCTION reporting.detail_purpose_given(text) IS '化名明细查阅须说明用途 / R23: a detail read states its purpose; refuses otherwise.';

-- The record of one read: the table's row, and the server log's line.
CREATE OR REPLACE FUNCTION reporting.record_detail_read(function text, arguments jsonb, row_count bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    read_id bigint;
BEGIN
    INSERT INTO bank.reporting_detail_read (login, acting_as, function, arguments, row_count)
    VALUES (session_user, current_setting('role'), record_detail_read.function, record_detail_read.arguments, record_detail_read.row_count)
    RETURNING id INTO read_id;
    RAISE LOG 'R23: reporting detail read % by login % (role %): %(%), % rows', read_id, session_user,
        current_setting('role'), record_detail_read.function, record_detail_read.arguments::text, record_detail_read.row_count;
END
$$;
COMMENT ON FUNCTION reporting.record_detail_read(text, jsonb, bigint) IS '记录一次化名明细查阅（表与服务器日志）/ R23: records one detail read, in bank.reporting_detail_read and the server log.';

-- Volunteers under stable pseudonyms (the former reporting.volunteers).
CREATE OR REPLACE FUNCTION reporting.volunteer_detail(purpose text)
RETURNS TABLE (volunteer text, district_code text, age_band text, gender text, status text, approved_month date,
               earned_minutes bigint, earned_coins numeric, star_level integer, reached_10000_coins boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    n bigint;
BEGIN
    PERFORM reporting.detail_purpose_given(purpose);
    RETURN QUERY
    SELECT pp.pseudonym, pp.district_code, pp.age_band, pp.gender, pp.status,
           date_trunc('month', v.approved_at AT TIME ZONE 'Asia/Shanghai')::date,
           coalesce(a.earned_minutes, 0)::bigint,
           round(coalesce(a.earned_minutes, 0) / 60.0, 2),
           (SELECT max(substr(m.milestone, 6, 1)::integer) FROM bank.volunteer_milestone m
             WHERE m.person_id = v.person_id AND m.milestone LIKE 'star_%'),
           EXISTS (SELECT 1 FROM bank.volunteer_milestone m WHERE m.person_id = v.person_id AND m.milestone = 'coins_10000')
      FROM bank.volunteer v
      JOIN bank.person_pseudonym pp ON pp.person_id = v.person_id
      LEFT JOIN bank.account a ON a.person_id = v.person_id
     ORDER BY 1;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM reporting.record_detail_read('reporting.volunteer_detail', jsonb_build_object('purpose', purpose), n);
END
$$;
COMMENT ON FUNCTION reporting.volunteer_detail(text) IS '志愿者明细（化名，每次查阅均记录）/ Volunteers under stable pseudonyms: district, age band, gender, status, coins earned, star level; for timebank_analyst_detail, every read recorded (R23).';

-- Milestones reached, per pseudonym (the former reporting.milestones).
CREATE OR REPLACE FUNCTION reporting.milestone_detail(purpose text)
RETURNS TABLE (volunteer text, district_code text, age_band text, milestone text, reached_at timestamptz,
               reached_year integer, earned_coins_then numeric)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    n bigint;
BEGIN
    PERFORM reporting.detail_purpose_given(purpose);
    RETURN QUERY
    SELECT pp.pseudonym, pp.district_code, pp.age_band, m.milestone, m.reached_at,
           extract(year FROM m.reached_at AT TIME ZONE 'Asia/Shanghai')::integer,
           round(m.earned_minutes / 60.0, 2)
      FROM bank.volunteer_milestone m JOIN bank.person_pseudonym pp ON pp.person_id = m.person_id
     ORDER BY m.reached_at, 1;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM reporting.record_detail_read('reporting.milestone_detail', jsonb_build_object('purpose', purpose), n);
END
$$;
COMMENT ON FUNCTION reporting.milestone_detail(text) IS '里程碑明细（化名，每次查阅均记录）/ Star levels and the 10,000-coin milestone (R12, R13) per pseudonym, when reached; for timebank_analyst_detail, every read recorded (R23).';

-- Special elders granted coins, per pseudonym (the former reporting.special_elders).
CREATE OR REPLACE FUNCTION reporting.special_elder_detail(purpose text)
RETURNS TABLE (elder text, district_code text, age_band text, grant_categories text[], granted_minutes bigint,
               granted_coins numeric, spent_minutes bigint, spent_coins numeric)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    n bigint;
BEGIN
    PERFORM reporting.detail_purpose_given(purpose);
    RETURN QUERY
    WITH granted AS (
        SELECT pp.pseudonym, pp.district_code, pp.age_band, a.id AS account_id,
               array_agg(DISTINCT g.grant_category::text ORDER BY g.grant_category::text) AS categories, sum(g.amount)::bigint AS minutes
          FROM bank.transfer g
          JOIN bank.account a ON a.id = g.credit_account_id
          JOIN bank.person_pseudonym pp ON pp.person_id = a.person_id
         WHERE g.kind IN ('grant', 'welfare_grant')
         GROUP BY pp.pseudonym, pp.district_code, pp.age_band, a.id),
    spent AS (
        SELECT gr.*, coalesce((SELECT sum(t.amount) FROM bank.transfer t
                                WHERE t.debit_account_id = gr.account_id AND t.kind = 'service_payment'), 0)::bigint AS spent
          FROM granted gr)
    SELECT s.pseudonym, s.district_code, s.age_band, s.categories, s.minutes, round(s.minutes / 60.0, 2),
           s.spent, round(s.spent / 60.0, 2)
      FROM spent s ORDER BY 1;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM reporting.record_detail_read('reporting.special_elder_detail', jsonb_build_object('purpose', purpose), n);
END
$$;
COMMENT ON FUNCTION reporting.special_elder_detail(text) IS '特殊老人明细（化名，每次查阅均记录）/ Special elders under pseudonyms: categories, coins granted (R9, R10) and spent; for timebank_analyst_detail, every read recorded (R23).';

-- Every account's balance at the end of a day, holders as pseudonyms (the
-- former reporting.balances_as_of(day), now with a purpose).
CREATE OR REPLACE FUNCTION reporting.balances_as_of(day date, purpose text)
RETURNS TABLE (account_kind text, holder text, district_code text, posted_minutes bigint, held_minutes bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    n bigint;
BEGIN
    PERFORM reporting.detail_purpose_given(purpose);
    RETURN QUERY
    SELECT b.account_kind, pp.pseudonym, b.district_code, b.posted_minutes, b.held_minutes
      FROM reporting.account_balances(day) b
      LEFT JOIN bank.person_pseudonym pp ON pp.person_id = b.person_id
     ORDER BY b.account_kind, b.district_code, pp.pseudonym;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM reporting.record_detail_read('reporting.balances_as_of', jsonb_build_object('day', day, 'purpose', purpose), n);
END
$$;
COMMENT ON FUNCTION reporting.balances_as_of(date, text) IS '某日结束时（北京时间）各账户余额，持有人为化名（每次查阅均记录）/ Every account''s balance at the end of a day (Beijing time), from the immutable transfers, holders as pseudonyms; for timebank_analyst_detail, every read recorded (R23).';
