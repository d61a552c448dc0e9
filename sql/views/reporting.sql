-- The reporting schema (sql/migrations/0016): documented views analysts
-- use with plain SQL, without personal data. Every view and column is
-- commented in Chinese and English; ages appear as bands, places as
-- districts. The views read the base tables with their owner's rights;
-- timebank_analyst is granted the views and nothing else (at the end).
-- Stable names: columns are only added to (see sql/README.md).
--
-- R23, small groups (issue 15, finding 8; sql/migrations/0023): every view
-- here aggregates over people, and no cell of fewer than k distinct people
-- (k = reporting.min_group_size(), the setting reporting_min_group_size, 5
-- by default) is shown: its row is left out, not shown with NULLs (a row's
-- mere presence would tell that someone of that district, band and kind
-- exists). A cell that describes two kinds of people (volunteers and the
-- elders they served; payers and payees) needs k of each. Against
-- differencing: within each view's parent group (named at each view; the
-- margins other views or the city's own figures publish), when the rows
-- left out would together cover fewer than k people, the smallest other
-- cell of the group is left out too, so what a published total less the
-- shown cells gives is a sum over at least k people.
-- Consequences and residual risk, for analysts and the privacy officer:
-- sums over shown rows undercount (by what was left out); differencing
-- across views of different margins (a month's district against an item's
-- cells), across time (a snapshot today against yesterday's, a balance at
-- one day against the next) or against outside knowledge ("my neighbour is
-- the only volunteer of 80 and over in Yanqing") is reduced but not ruled
-- out; a cell of k people who share one value (all five rated 1) tells
-- that value of each. Rows per pseudonym are no view's: they are
-- timebank_analyst_detail's, read through audited functions
-- (sql/functions/reporting/detail.sql).

-- Parent group: month and district (active_people_by_month publishes its
-- services). People: the elders whose demands it counts and the volunteers
-- who served them.
CREATE OR REPLACE VIEW reporting.services_by_month AS
WITH cell AS (
    SELECT date_trunc('month', s.starts_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
           s.district_code, d.name_zh AS district_zh, d.name_en AS district_en,
           s.category_code, c.name_zh AS category_zh, c.name_en AS category_en,
           s.item_id, i.name_zh AS item_zh,
           count(*) FILTER (WHERE s.reviewed_at IS NOT NULL AND s.status <> 'rejected') AS services_published,
           count(*) FILTER (WHERE s.status = 'checked_out') AS services_completed,
           coalesce(sum(s.settled_minutes), 0) AS minutes_served,
           round(coalesce(sum(s.settled_minutes), 0) / 60.0, 2) AS hours_served,
           count(DISTINCT s.elder_id) AS elders,
           count(DISTINCT s.volunteer_id) AS volunteers
      FROM bank.service s
      JOIN bank.district d ON d.code = s.district_code
      JOIN bank.service_category c ON c.code = s.category_code
      LEFT JOIN bank.service_item i ON i.id = s.item_id
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9),
judged AS (
    SELECT cell.*, k.k, CASE WHEN cell.volunteers = 0 THEN cell.elders ELSE least(cell.elders, cell.volunteers) END AS people
      FROM cell CROSS JOIN (SELECT reporting.min_group_size() AS k) k),
ranked AS (
    SELECT judged.*, judged.people < judged.k AS small,
           coalesce(sum(judged.people) FILTER (WHERE judged.people < judged.k) OVER (PARTITION BY judged.month, judged.district_code), 0) AS left_out,
           row_number() OVER (PARTITION BY judged.month, judged.district_code, judged.people < judged.k
                              ORDER BY judged.people, judged.category_code, judged.item_id NULLS FIRST) AS nth
      FROM judged)
SELECT month, district_code, district_zh, district_en, category_code, category_zh, category_en, item_id, item_zh,
       services_published, services_completed, minutes_served, hours_served, elders, volunteers
  FROM ranked
 WHERE NOT small AND NOT (left_out > 0 AND left_out < k AND nth = 1);
COMMENT ON VIEW reporting.services_by_month IS '服务统计：按月、区、类别、项目 / Services by month (Beijing time, by start), district, category and item: published, completed, minutes served. 少于 k 人（reporting_min_group_size）的分组不显示 / Groups of fewer than k people (reporting_min_group_size) are not shown.';
COMMENT ON COLUMN reporting.services_by_month.month IS '月份（北京时间，按服务开始）/ month, Beijing time, by the service''s start';
COMMENT ON COLUMN reporting.services_by_month.district_code IS '区划代码 / district code';
COMMENT ON COLUMN reporting.services_by_month.district_zh IS '区（中文）/ district, Chinese';
COMMENT ON COLUMN reporting.services_by_month.district_en IS '区（英文）/ district, English';
COMMENT ON COLUMN reporting.services_by_month.category_code IS '服务类别代码（R14）/ service category code (R14)';
COMMENT ON COLUMN reporting.services_by_month.category_zh IS '服务类别（中文）/ category, Chinese';
COMMENT ON COLUMN reporting.services_by_month.category_en IS '服务类别（英文）/ category, English';
COMMENT ON COLUMN reporting.services_by_month.item_id IS '服务项目编号（R15，可空）/ district or city-wide item (R15), if any';
COMMENT ON COLUMN reporting.services_by_month.item_zh IS '服务项目名称 / item name';
COMMENT ON COLUMN reporting.services_by_month.services_published IS '已发布（审核通过）的服务数 / services published (approved)';
COMMENT ON COLUMN reporting.services_by_month.services_completed IS '已签退的服务数 / services checked out';
COMMENT ON COLUMN reporting.services_by_month.minutes_served IS '已结算的服务分钟数 / minutes served and settled (R6)';
COMMENT ON COLUMN reporting.services_by_month.hours_served IS '已结算的服务小时数 / hours served and settled (1 hour = 1 coin)';
COMMENT ON COLUMN reporting.services_by_month.elders IS '发布需求的老人人数（不少于 k）/ distinct elders whose demands the row counts (k or more)';
COMMENT ON COLUMN reporting.services_by_month.volunteers IS '提供服务的志愿者人数（有则不少于 k）/ distinct volunteers who took these services (none, or k or more)';

-- Parent group: month and district. People: the persons paying and the
-- persons paid (a district's grant account or the public-welfare account
-- is no person); a flow between institutions alone is no person's.
CREATE OR REPLACE VIEW reporting.coin_flows_by_month AS
WITH cell AS (
    SELECT date_trunc('month', t.created_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
           coalesce(da.district_code, CASE WHEN t.kind IN ('service_credit', 'grant', 'welfare_grant') THEN cp.district_code ELSE dp.district_code END) AS district_code,
           CASE t.kind WHEN 'service_credit' THEN 'earned' WHEN 'service_payment' THEN 'spent' WHEN 'grant' THEN 'granted'
                       WHEN 'welfare_grant' THEN 'welfare_granted' WHEN 'gift' THEN 'gifted' WHEN 'donation' THEN 'donated'
                       ELSE 'reversed' END AS flow,
           t.grant_category,
           count(*) AS transfers,
           sum(t.amount) AS minutes,
           round(sum(t.amount) / 60.0, 2) AS coins,
           count(DISTINCT dp.id) AS people_paying,
           count(DISTINCT cp.id) AS people_paid
      FROM bank.transfer t
      JOIN bank.account da ON da.id = t.debit_account_id
      JOIN bank.account ca ON ca.id = t.credit_account_id
      LEFT JOIN bank.person dp ON dp.id = da.person_id
      LEFT JOIN bank.person cp ON cp.id = ca.person_id
     WHERE t.kind IN ('service_credit', 'service_payment', 'grant', 'welfare_grant', 'gift', 'donation', 'service_reversal')
     GROUP BY 1, 2, 3, 4),
judged AS (
    SELECT cell.*, k.k,
           CASE WHEN cell.people_paying = 0 AND cell.people_paid = 0 THEN NULL
                WHEN cell.people_paying = 0 THEN cell.people_paid WHEN cell.people_paid = 0 THEN cell.people_paying
                ELSE least(cell.people_paying, cell.people_paid) END AS people
      FROM cell CROSS JOIN (SELECT reporting.min_group_size() AS k) k),
ranked AS (
    SELECT judged.*, coalesce(judged.people < judged.k, false) AS small,
           coalesce(sum(judged.people) FILTER (WHERE judged.people < judged.k) OVER (PARTITION BY judged.month, judged.district_code), 0) AS left_out,
           row_number() OVER (PARTITION BY judged.month, judged.district_code, coalesce(judged.people < judged.k, false), judged.people IS NULL
                              ORDER BY judged.people, judged.flow, judged.grant_category NULLS FIRST) AS nth
      FROM judged)
SELECT month, district_code, flow, grant_category, transfers, minutes, coins, people_paying, people_paid
  FROM ranked
 WHERE NOT small AND NOT (left_out > 0 AND left_out < k AND nth = 1 AND people IS NOT NULL);
COMMENT ON VIEW reporting.coin_flows_by_month IS '时间币流动：按月、区、类型 / Coin flows by month, district and kind: earned, spent, granted, welfare-granted, gifted, donated, reversed. 少于 k 人（reporting_min_group_size）的分组不显示 / Groups of fewer than k people (reporting_min_group_size) are not shown.';
COMMENT ON COLUMN reporting.coin_flows_by_month.month IS '月份（北京时间）/ month, Beijing time';
COMMENT ON COLUMN reporting.coin_flows_by_month.district_code IS '区划代码：发放为发放区，获得为获得人所在区，支出、赠与、捐赠为支付人所在区 / district: the granting district; for earnings the earner''s; for spending, gifts and donations the payer''s';
COMMENT ON COLUMN reporting.coin_flows_by_month.flow IS '类型：earned 服务获得，spent 支付服务，granted 区发放（R9），welfare_granted 公益账户发放（R10），gifted 亲属赠与（R8），donated 捐赠（R10、R11），reversed 冲正（R19）/ kind of flow';
COMMENT ON COLUMN reporting.coin_flows_by_month.grant_category IS '特殊老人类别（发放时）/ category of special elder, for grants (R9, R10)';
COMMENT ON COLUMN reporting.coin_flows_by_month.transfers IS '笔数 / number of transfers';
COMMENT ON COLUMN reporting.coin_flows_by_month.minutes IS '分钟数 / minutes (60 = 1 coin)';
COMMENT ON COLUMN reporting.coin_flows_by_month.coins IS '时间币 / coins';
COMMENT ON COLUMN reporting.coin_flows_by_month.people_paying IS '支付方人数（个人，有则不少于 k）/ distinct persons paying (none, or k or more)';
COMMENT ON COLUMN reporting.coin_flows_by_month.people_paid IS '收款方人数（个人，有则不少于 k）/ distinct persons paid (none, or k or more)';

-- Parent group: the month (the city's donations). People: the donors.
CREATE OR REPLACE VIEW reporting.pure_volunteering_by_month AS
WITH cell AS (
    SELECT date_trunc('month', t.created_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
           p.district_code,
           count(DISTINCT p.id) AS donors,
           sum(t.amount) AS donated_minutes,
           round(sum(t.amount) / 60.0, 2) AS pure_volunteering_hours
      FROM bank.transfer t
      JOIN bank.account a ON a.id = t.debit_account_id
      JOIN bank.person p ON p.id = a.person_id
     WHERE t.kind = 'donation'
     GROUP BY 1, 2),
ranked AS (
    SELECT cell.*, k.k, cell.donors < k.k AS small,
           coalesce(sum(cell.donors) FILTER (WHERE cell.donors < k.k) OVER (PARTITION BY cell.month), 0) AS left_out,
           row_number() OVER (PARTITION BY cell.month, cell.donors < k.k ORDER BY cell.donors, cell.district_code) AS nth
      FROM cell CROSS JOIN (SELECT reporting.min_group_size() AS k) k)
SELECT month, district_code, donors, donated_minutes, pure_volunteering_hours
  FROM ranked
 WHERE NOT small AND NOT (left_out > 0 AND left_out < k AND nth = 1);
COMMENT ON VIEW reporting.pure_volunteering_by_month IS '纯公益服务（R11）：捐赠的时间币按月、区单独统计 / Pure volunteering (R11): coins donated for good, counted apart, by month and the donor''s district. 少于 k 人（reporting_min_group_size）的分组不显示 / Groups of fewer than k people (reporting_min_group_size) are not shown.';
COMMENT ON COLUMN reporting.pure_volunteering_by_month.month IS '月份（北京时间）/ month, Beijing time';
COMMENT ON COLUMN reporting.pure_volunteering_by_month.district_code IS '捐赠人所在区 / the donor''s district';
COMMENT ON COLUMN reporting.pure_volunteering_by_month.donors IS '捐赠人数 / people who donated';
COMMENT ON COLUMN reporting.pure_volunteering_by_month.donated_minutes IS '捐赠分钟数 / minutes donated';
COMMENT ON COLUMN reporting.pure_volunteering_by_month.pure_volunteering_hours IS '纯公益服务小时数（R11）/ hours of pure volunteering (R11)';

-- Parent group: the month. People: the volunteers and the elders served.
CREATE OR REPLACE VIEW reporting.active_people_by_month AS
WITH cell AS (
    SELECT date_trunc('month', s.checked_out_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
           s.district_code,
           count(DISTINCT s.volunteer_id) AS active_volunteers,
           count(DISTINCT s.elder_id) AS elders_served,
           count(*) AS services_completed
      FROM bank.service s
     WHERE s.status = 'checked_out'
     GROUP BY 1, 2),
judged AS (
    SELECT cell.*, k.k, least(cell.active_volunteers, cell.elders_served) AS people
      FROM cell CROSS JOIN (SELECT reporting.min_group_size() AS k) k),
ranked AS (
    SELECT judged.*, judged.people < judged.k AS small,
           coalesce(sum(judged.people) FILTER (WHERE judged.people < judged.k) OVER (PARTITION BY judged.month), 0) AS left_out,
           row_number() OVER (PARTITION BY judged.month, judged.people < judged.k ORDER BY judged.people, judged.district_code) AS nth
      FROM judged)
SELECT month, district_code, active_volunteers, elders_served, services_completed
  FROM ranked
 WHERE NOT small AND NOT (left_out > 0 AND left_out < k AND nth = 1);
COMMENT ON VIEW reporting.active_people_by_month IS '活跃志愿者与受服务老人：按月、区 / Active volunteers and elders served, by month (of check-out) and the service''s district. 少于 k 人（reporting_min_group_size）的分组不显示 / Groups of fewer than k people (reporting_min_group_size) are not shown.';
COMMENT ON COLUMN reporting.active_people_by_month.month IS '月份（北京时间，按签退）/ month, Beijing time, by check-out';
COMMENT ON COLUMN reporting.active_people_by_month.district_code IS '服务所在区 / the service''s district';
COMMENT ON COLUMN reporting.active_people_by_month.active_volunteers IS '完成服务的志愿者人数 / volunteers who completed a service';
COMMENT ON COLUMN reporting.active_people_by_month.elders_served IS '受服务的老人人数 / elders served';
COMMENT ON COLUMN reporting.active_people_by_month.services_completed IS '完成的服务数 / services completed';

-- Parent group: month and district. People: the elders who rated and the
-- volunteers rated.
CREATE OR REPLACE VIEW reporting.ratings_by_month AS
WITH cell AS (
    SELECT date_trunc('month', r.rated_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
           s.district_code, s.category_code,
           count(*) AS ratings,
           round(avg(r.score), 2) AS average_score,
           count(*) FILTER (WHERE r.score <= 2) AS low_scores,
           count(DISTINCT s.elder_id) AS elders,
           count(DISTINCT s.volunteer_id) AS volunteers
      FROM bank.service_rating r JOIN bank.service s ON s.id = r.service_id
     GROUP BY 1, 2, 3),
judged AS (
    SELECT cell.*, k.k, least(cell.elders, cell.volunteers) AS people
      FROM cell CROSS JOIN (SELECT reporting.min_group_size() AS k) k),
ranked AS (
    SELECT judged.*, judged.people < judged.k AS small,
           coalesce(sum(judged.people) FILTER (WHERE judged.people < judged.k) OVER (PARTITION BY judged.month, judged.district_code), 0) AS left_out,
           row_number() OVER (PARTITION BY judged.month, judged.district_code, judged.people < judged.k
                              ORDER BY judged.people, judged.category_code) AS nth
      FROM judged)
SELECT month, district_code, category_code, ratings, average_score, low_scores, elders, volunteers
  FROM ranked
 WHERE NOT small AND NOT (left_out > 0 AND left_out < k AND nth = 1);
COMMENT ON VIEW reporting.ratings_by_month IS '服务评价（R19）：按月、区、类别 / Ratings (R19) by month, district and category. 少于 k 人（reporting_min_group_size）的分组不显示 / Groups of fewer than k people (reporting_min_group_size) are not shown.';
COMMENT ON COLUMN reporting.ratings_by_month.month IS '月份（北京时间，按评价）/ month, Beijing time, of the rating';
COMMENT ON COLUMN reporting.ratings_by_month.district_code IS '服务所在区 / the service''s district';
COMMENT ON COLUMN reporting.ratings_by_month.category_code IS '服务类别 / service category';
COMMENT ON COLUMN reporting.ratings_by_month.ratings IS '评价数 / ratings';
COMMENT ON COLUMN reporting.ratings_by_month.average_score IS '平均分（1-5）/ average score, 1 to 5';
COMMENT ON COLUMN reporting.ratings_by_month.low_scores IS '低分（1-2 分）数 / ratings of 1 or 2';
COMMENT ON COLUMN reporting.ratings_by_month.elders IS '评价的老人人数（不少于 k）/ distinct elders who rated (k or more)';
COMMENT ON COLUMN reporting.ratings_by_month.volunteers IS '被评价的志愿者人数（不少于 k）/ distinct volunteers rated (k or more)';

-- Parent group: the month. People: the volunteers who claimed (R26).
CREATE OR REPLACE VIEW reporting.claims_by_month AS
WITH cell AS (
    SELECT date_trunc('month', c.created_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
           CASE WHEN c.insured_by = 'volunteer_beijing' THEN 'volunteer_beijing'
                WHEN c.insured_by IS NOT NULL THEN 'organisation_policy' ELSE 'none' END AS scheme,
           c.state, count(*) AS claims, sum(c.approved_amount) AS approved_yuan,
           count(DISTINCT c.volunteer_id) AS volunteers
      FROM bank.accident_claim c
     GROUP BY 1, 2, 3),
ranked AS (
    SELECT cell.*, k.k, cell.volunteers < k.k AS small,
           coalesce(sum(cell.volunteers) FILTER (WHERE cell.volunteers < k.k) OVER (PARTITION BY cell.month), 0) AS left_out,
           row_number() OVER (PARTITION BY cell.month, cell.volunteers < k.k ORDER BY cell.volunteers, cell.scheme, cell.state) AS nth
      FROM cell CROSS JOIN (SELECT reporting.min_group_size() AS k) k)
SELECT month, scheme, state, claims, approved_yuan, volunteers
  FROM ranked
 WHERE NOT small AND NOT (left_out > 0 AND left_out < k AND nth = 1);
COMMENT ON VIEW reporting.claims_by_month IS '意外理赔（R24-R26）：按月、保障方式、状态 / Accident claims by month reported, insurance scheme and state. 少于 k 人（reporting_min_group_size）的分组不显示 / Groups of fewer than k people (reporting_min_group_size) are not shown.';
COMMENT ON COLUMN reporting.claims_by_month.month IS '报案月份（北京时间）/ month reported, Beijing time';
COMMENT ON COLUMN reporting.claims_by_month.scheme IS '保障方式：volunteer_beijing（R24）、organisation_policy（R25）、none / insurance scheme';
COMMENT ON COLUMN reporting.claims_by_month.state IS '理赔状态 / claim state';
COMMENT ON COLUMN reporting.claims_by_month.claims IS '理赔数 / claims';
COMMENT ON COLUMN reporting.claims_by_month.approved_yuan IS '核准金额（元）/ amount approved, yuan';
COMMENT ON COLUMN reporting.claims_by_month.volunteers IS '报案志愿者人数（不少于 k）/ distinct volunteers who claimed (k or more)';

-- Volunteers (R1, R12, R13), in groups: the aggregated form of the former
-- reporting.volunteers (rows per pseudonym: reporting.volunteer_detail, for
-- timebank_analyst_detail). Parent group: the district.
CREATE OR REPLACE VIEW reporting.volunteers_by_group AS
WITH person AS (
    SELECT v.person_id, p.district_code, reporting.age_band(p.birth_date) AS age_band, p.gender, p.status,
           coalesce(a.earned_minutes, 0) AS earned_minutes,
           coalesce((SELECT max(substr(m.milestone, 6, 1)::integer) FROM bank.volunteer_milestone m
                      WHERE m.person_id = v.person_id AND m.milestone LIKE 'star_%'), 0) AS star_level,
           EXISTS (SELECT 1 FROM bank.volunteer_milestone m WHERE m.person_id = v.person_id AND m.milestone = 'coins_10000') AS reached_10000
      FROM bank.volunteer v
      JOIN bank.person p ON p.id = v.person_id
      LEFT JOIN bank.account a ON a.person_id = v.person_id),
cell AS (
    SELECT district_code, age_band, gender, star_level,
           count(*) AS volunteers,
           count(*) FILTER (WHERE status = 'active') AS active_volunteers,
           count(*) FILTER (WHERE reached_10000) AS reached_10000_coins,
           sum(earned_minutes)::bigint AS earned_minutes,
           round(sum(earned_minutes) / 60.0, 2) AS earned_coins
      FROM person GROUP BY 1, 2, 3, 4),
ranked AS (
    SELECT cell.*, k.k, cell.volunteers < k.k AS small,
           coalesce(sum(cell.volunteers) FILTER (WHERE cell.volunteers < k.k) OVER (PARTITION BY cell.district_code), 0) AS left_out,
           row_number() OVER (PARTITION BY cell.district_code, cell.volunteers < k.k
                              ORDER BY cell.volunteers, cell.age_band, cell.gender, cell.star_level) AS nth
      FROM cell CROSS JOIN (SELECT reporting.min_group_size() AS k) k)
SELECT district_code, age_band, gender, star_level, volunteers, active_volunteers, reached_10000_coins, earned_minutes, earned_coins
  FROM ranked
 WHERE NOT small AND NOT (left_out > 0 AND left_out < k AND nth = 1);
COMMENT ON VIEW reporting.volunteers_by_group IS '志愿者分组统计：按区、年龄段、性别、星级；少于 k 人的分组不显示 / Volunteers by district, age band, gender and star level (R13): how many, coins earned; groups of fewer than k people (reporting_min_group_size) are not shown.';
COMMENT ON COLUMN reporting.volunteers_by_group.district_code IS '所在区 / district';
COMMENT ON COLUMN reporting.volunteers_by_group.age_band IS '年龄段 / age band';
COMMENT ON COLUMN reporting.volunteers_by_group.gender IS '性别 / gender';
COMMENT ON COLUMN reporting.volunteers_by_group.star_level IS '星级（R13，1-5，0 为无）/ star level reached (R13), 0 for none';
COMMENT ON COLUMN reporting.volunteers_by_group.volunteers IS '志愿者人数（不少于 k）/ volunteers (k or more)';
COMMENT ON COLUMN reporting.volunteers_by_group.active_volunteers IS '其中状态为 active 的人数 / of whom active';
COMMENT ON COLUMN reporting.volunteers_by_group.reached_10000_coins IS '其中达到一万时间币的人数（R12）/ of whom reached the 10,000-coin milestone (R12)';
COMMENT ON COLUMN reporting.volunteers_by_group.earned_minutes IS '服务获得的分钟数合计（不含赠与、发放）/ minutes earned by serving, in all (R6; never gifts or grants)';
COMMENT ON COLUMN reporting.volunteers_by_group.earned_coins IS '服务获得的时间币合计 / coins earned by serving, in all';

-- Star levels and the 10,000-coin milestone reached, by year and district:
-- the aggregated form of the former reporting.milestones. Parent group: the
-- year and milestone (the city's own count of new star volunteers).
CREATE OR REPLACE VIEW reporting.milestones_by_year AS
WITH cell AS (
    SELECT extract(year FROM m.reached_at AT TIME ZONE 'Asia/Shanghai')::integer AS reached_year,
           p.district_code, m.milestone,
           count(DISTINCT m.person_id) AS volunteers,
           round(avg(m.earned_minutes) / 60.0, 2) AS average_earned_coins_then
      FROM bank.volunteer_milestone m JOIN bank.person p ON p.id = m.person_id
     GROUP BY 1, 2, 3),
ranked AS (
    SELECT cell.*, k.k, cell.volunteers < k.k AS small,
           coalesce(sum(cell.volunteers) FILTER (WHERE cell.volunteers < k.k) OVER (PARTITION BY cell.reached_year, cell.milestone), 0) AS left_out,
           row_number() OVER (PARTITION BY cell.reached_year, cell.milestone, cell.volunteers < k.k
                              ORDER BY cell.volunteers, cell.district_code) AS nth
      FROM cell CROSS JOIN (SELECT reporting.min_group_size() AS k) k)
SELECT reached_year, district_code, milestone, volunteers, average_earned_coins_then
  FROM ranked
 WHERE NOT small AND NOT (left_out > 0 AND left_out < k AND nth = 1);
COMMENT ON VIEW reporting.milestones_by_year IS '星级与万币里程碑（R12、R13）：按年、区统计达到人数；少于 k 人的分组不显示 / Star levels and the 10,000-coin milestone (R12, R13) reached, by year and district; groups of fewer than k people are not shown.';
COMMENT ON COLUMN reporting.milestones_by_year.reached_year IS '达到年份（北京时间）/ year reached, Beijing time';
COMMENT ON COLUMN reporting.milestones_by_year.district_code IS '所在区 / district';
COMMENT ON COLUMN reporting.milestones_by_year.milestone IS '里程碑：star_1..star_5（R13）、coins_10000（R12）/ milestone';
COMMENT ON COLUMN reporting.milestones_by_year.volunteers IS '达到的志愿者人数（不少于 k）/ volunteers who reached it (k or more)';
COMMENT ON COLUMN reporting.milestones_by_year.average_earned_coins_then IS '达到时累计获得时间币的平均数 / average coins earned when reached';

-- Special elders granted coins (R9, R10), by district and age band: the
-- aggregated form of the former reporting.special_elders. Parent group:
-- the district. (Grants by category of special elder: coin_flows_by_month.)
CREATE OR REPLACE VIEW reporting.special_elders_by_group AS
WITH elder AS (
    SELECT a.id AS account_id, p.district_code, reporting.age_band(p.birth_date) AS age_band, sum(g.amount) AS granted_minutes
      FROM bank.transfer g
      JOIN bank.account a ON a.id = g.credit_account_id
      JOIN bank.person p ON p.id = a.person_id
     WHERE g.kind IN ('grant', 'welfare_grant')
     GROUP BY a.id, p.district_code, p.birth_date),
spent AS (
    SELECT e.*, coalesce((SELECT sum(t.amount) FROM bank.transfer t
                           WHERE t.debit_account_id = e.account_id AND t.kind = 'service_payment'), 0) AS spent_minutes
      FROM elder e),
cell AS (
    SELECT district_code, age_band, count(*) AS elders,
           sum(granted_minutes)::bigint AS granted_minutes, round(sum(granted_minutes) / 60.0, 2) AS granted_coins,
           sum(spent_minutes)::bigint AS spent_minutes, round(sum(spent_minutes) / 60.0, 2) AS spent_coins
      FROM spent GROUP BY 1, 2),
ranked AS (
    SELECT cell.*, k.k, cell.elders < k.k AS small,
           coalesce(sum(cell.elders) FILTER (WHERE cell.elders < k.k) OVER (PARTITION BY cell.district_code), 0) AS left_out,
           row_number() OVER (PARTITION BY cell.district_code, cell.elders < k.k ORDER BY cell.elders, cell.age_band) AS nth
      FROM cell CROSS JOIN (SELECT reporting.min_group_size() AS k) k)
SELECT district_code, age_band, elders, granted_minutes, granted_coins, spent_minutes, spent_coins
  FROM ranked
 WHERE NOT small AND NOT (left_out > 0 AND left_out < k AND nth = 1);
COMMENT ON VIEW reporting.special_elders_by_group IS '获得发放的特殊老人分组统计：按区、年龄段，发放与使用的时间币（R9、R10）；少于 k 人的分组不显示 / Special elders granted coins (R9, R10), by district and age band: coins granted and used; groups of fewer than k people are not shown.';
COMMENT ON COLUMN reporting.special_elders_by_group.district_code IS '所在区 / district';
COMMENT ON COLUMN reporting.special_elders_by_group.age_band IS '年龄段 / age band';
COMMENT ON COLUMN reporting.special_elders_by_group.elders IS '获得发放的老人人数（不少于 k）/ elders granted coins (k or more)';
COMMENT ON COLUMN reporting.special_elders_by_group.granted_minutes IS '发放分钟数合计（区发放与公益发放）/ minutes granted, in all (district and welfare grants)';
COMMENT ON COLUMN reporting.special_elders_by_group.granted_coins IS '发放时间币合计 / coins granted, in all';
COMMENT ON COLUMN reporting.special_elders_by_group.spent_minutes IS '支付服务的分钟数合计（全部来源）/ minutes these elders paid for services (from any source)';
COMMENT ON COLUMN reporting.special_elders_by_group.spent_coins IS '支付服务的时间币合计 / coins these elders spent on services';

CREATE OR REPLACE VIEW reporting.queue_health AS
SELECT q.queue,
       count(*) FILTER (WHERE j.state = 'available') AS waiting,
       count(*) FILTER (WHERE j.state = 'scheduled') AS scheduled,
       count(*) FILTER (WHERE j.state = 'running') AS running,
       count(*) FILTER (WHERE j.state = 'retryable') AS retrying,
       count(*) FILTER (WHERE j.state = 'discarded') AS failed,
       round(extract(epoch FROM now() - min(j.run_at) FILTER (WHERE j.state = 'available'))::numeric, 1) AS oldest_waiting_seconds
  FROM (SELECT DISTINCT queue FROM jobs.job) q JOIN jobs.job j ON j.queue = q.queue
 GROUP BY q.queue;
COMMENT ON VIEW reporting.queue_health IS '作业队列健康：等待、运行、失败的作业及最久等待时长 / Queue health: jobs waiting, running and failed, and the oldest waiting job''s age.';
COMMENT ON COLUMN reporting.queue_health.queue IS '队列 / queue';
COMMENT ON COLUMN reporting.queue_health.waiting IS '等待执行 / available, waiting';
COMMENT ON COLUMN reporting.queue_health.scheduled IS '定时 / scheduled for later';
COMMENT ON COLUMN reporting.queue_health.running IS '运行中 / running';
COMMENT ON COLUMN reporting.queue_health.retrying IS '等待重试 / failed, to be retried';
COMMENT ON COLUMN reporting.queue_health.failed IS '已放弃 / discarded after their last attempt';
COMMENT ON COLUMN reporting.queue_health.oldest_waiting_seconds IS '最久等待秒数 / age of the oldest waiting job, seconds';

-- The analyst role reads reporting and nothing else; every view here is an
-- aggregate with small groups left out (above). timebank_analyst_detail
-- reads no view: its rows per pseudonym come through recorded functions.
REVOKE ALL ON ALL TABLES IN SCHEMA reporting FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO timebank_analyst;
