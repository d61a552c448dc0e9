-- The reporting schema (sql/migrations/0016): documented views analysts
-- use with plain SQL, without personal data. Every view and column is
-- commented in Chinese and English; people appear as pseudonyms
-- (bank.person_pseudonym, views/bank.sql), ages as bands, places as
-- districts. The views read the base tables with their owner's rights;
-- timebank_analyst is granted the views and nothing else (at the end).
-- Stable names: columns are only added to (see sql/README.md).

CREATE OR REPLACE VIEW reporting.services_by_month AS
SELECT date_trunc('month', s.starts_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       s.district_code, d.name_zh AS district_zh, d.name_en AS district_en,
       s.category_code, c.name_zh AS category_zh, c.name_en AS category_en,
       s.item_id, i.name_zh AS item_zh,
       count(*) FILTER (WHERE s.reviewed_at IS NOT NULL AND s.status <> 'rejected') AS services_published,
       count(*) FILTER (WHERE s.status = 'checked_out') AS services_completed,
       coalesce(sum(s.settled_minutes), 0) AS minutes_served,
       round(coalesce(sum(s.settled_minutes), 0) / 60.0, 2) AS hours_served
  FROM bank.service s
  JOIN bank.district d ON d.code = s.district_code
  JOIN bank.service_category c ON c.code = s.category_code
  LEFT JOIN bank.service_item i ON i.id = s.item_id
 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
COMMENT ON VIEW reporting.services_by_month IS '服务统计：按月、区、类别、项目 / Services by month (Beijing time, by start), district, category and item: published, completed, minutes served.';
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

CREATE OR REPLACE VIEW reporting.coin_flows_by_month AS
SELECT date_trunc('month', t.created_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       coalesce(da.district_code, CASE WHEN t.kind IN ('service_credit', 'grant', 'welfare_grant') THEN cp.district_code ELSE dp.district_code END) AS district_code,
       CASE t.kind WHEN 'service_credit' THEN 'earned' WHEN 'service_payment' THEN 'spent' WHEN 'grant' THEN 'granted'
                   WHEN 'welfare_grant' THEN 'welfare_granted' WHEN 'gift' THEN 'gifted' WHEN 'donation' THEN 'donated'
                   ELSE 'reversed' END AS flow,
       t.grant_category,
       count(*) AS transfers,
       sum(t.amount) AS minutes,
       round(sum(t.amount) / 60.0, 2) AS coins
  FROM bank.transfer t
  JOIN bank.account da ON da.id = t.debit_account_id
  JOIN bank.account ca ON ca.id = t.credit_account_id
  LEFT JOIN bank.person dp ON dp.id = da.person_id
  LEFT JOIN bank.person cp ON cp.id = ca.person_id
 WHERE t.kind IN ('service_credit', 'service_payment', 'grant', 'welfare_grant', 'gift', 'donation', 'service_reversal')
 GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW reporting.coin_flows_by_month IS '时间币流动：按月、区、类型 / Coin flows by month, district and kind: earned, spent, granted, welfare-granted, gifted, donated, reversed.';
COMMENT ON COLUMN reporting.coin_flows_by_month.month IS '月份（北京时间）/ month, Beijing time';
COMMENT ON COLUMN reporting.coin_flows_by_month.district_code IS '区划代码：发放为发放区，获得为获得人所在区，支出、赠与、捐赠为支付人所在区 / district: the granting district; for earnings the earner''s; for spending, gifts and donations the payer''s';
COMMENT ON COLUMN reporting.coin_flows_by_month.flow IS '类型：earned 服务获得，spent 支付服务，granted 区发放（R9），welfare_granted 公益账户发放（R10），gifted 亲属赠与（R8），donated 捐赠（R10、R11），reversed 冲正（R19）/ kind of flow';
COMMENT ON COLUMN reporting.coin_flows_by_month.grant_category IS '特殊老人类别（发放时）/ category of special elder, for grants (R9, R10)';
COMMENT ON COLUMN reporting.coin_flows_by_month.transfers IS '笔数 / number of transfers';
COMMENT ON COLUMN reporting.coin_flows_by_month.minutes IS '分钟数 / minutes (60 = 1 coin)';
COMMENT ON COLUMN reporting.coin_flows_by_month.coins IS '时间币 / coins';

CREATE OR REPLACE VIEW reporting.pure_volunteering_by_month AS
SELECT date_trunc('month', t.created_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       p.district_code,
       count(DISTINCT p.id) AS donors,
       sum(t.amount) AS donated_minutes,
       round(sum(t.amount) / 60.0, 2) AS pure_volunteering_hours
  FROM bank.transfer t
  JOIN bank.account a ON a.id = t.debit_account_id
  JOIN bank.person p ON p.id = a.person_id
 WHERE t.kind = 'donation'
 GROUP BY 1, 2;
COMMENT ON VIEW reporting.pure_volunteering_by_month IS '纯公益服务（R11）：捐赠的时间币按月、区单独统计 / Pure volunteering (R11): coins donated for good, counted apart, by month and the donor''s district.';
COMMENT ON COLUMN reporting.pure_volunteering_by_month.month IS '月份（北京时间）/ month, Beijing time';
COMMENT ON COLUMN reporting.pure_volunteering_by_month.district_code IS '捐赠人所在区 / the donor''s district';
COMMENT ON COLUMN reporting.pure_volunteering_by_month.donors IS '捐赠人数 / people who donated';
COMMENT ON COLUMN reporting.pure_volunteering_by_month.donated_minutes IS '捐赠分钟数 / minutes donated';
COMMENT ON COLUMN reporting.pure_volunteering_by_month.pure_volunteering_hours IS '纯公益服务小时数（R11）/ hours of pure volunteering (R11)';

CREATE OR REPLACE VIEW reporting.active_people_by_month AS
SELECT date_trunc('month', s.checked_out_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       s.district_code,
       count(DISTINCT s.volunteer_id) AS active_volunteers,
       count(DISTINCT s.elder_id) AS elders_served,
       count(*) AS services_completed
  FROM bank.service s
 WHERE s.status = 'checked_out'
 GROUP BY 1, 2;
COMMENT ON VIEW reporting.active_people_by_month IS '活跃志愿者与受服务老人：按月、区 / Active volunteers and elders served, by month (of check-out) and the service''s district.';
COMMENT ON COLUMN reporting.active_people_by_month.month IS '月份（北京时间，按签退）/ month, Beijing time, by check-out';
COMMENT ON COLUMN reporting.active_people_by_month.district_code IS '服务所在区 / the service''s district';
COMMENT ON COLUMN reporting.active_people_by_month.active_volunteers IS '完成服务的志愿者人数 / volunteers who completed a service';
COMMENT ON COLUMN reporting.active_people_by_month.elders_served IS '受服务的老人人数 / elders served';
COMMENT ON COLUMN reporting.active_people_by_month.services_completed IS '完成的服务数 / services completed';

CREATE OR REPLACE VIEW reporting.ratings_by_month AS
SELECT date_trunc('month', r.rated_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       s.district_code, s.category_code,
       count(*) AS ratings,
       round(avg(r.score), 2) AS average_score,
       count(*) FILTER (WHERE r.score <= 2) AS low_scores
  FROM bank.service_rating r JOIN bank.service s ON s.id = r.service_id
 GROUP BY 1, 2, 3;
COMMENT ON VIEW reporting.ratings_by_month IS '服务评价（R19）：按月、区、类别 / Ratings (R19) by month, district and category.';
COMMENT ON COLUMN reporting.ratings_by_month.month IS '月份（北京时间，按评价）/ month, Beijing time, of the rating';
COMMENT ON COLUMN reporting.ratings_by_month.district_code IS '服务所在区 / the service''s district';
COMMENT ON COLUMN reporting.ratings_by_month.category_code IS '服务类别 / service category';
COMMENT ON COLUMN reporting.ratings_by_month.ratings IS '评价数 / ratings';
COMMENT ON COLUMN reporting.ratings_by_month.average_score IS '平均分（1-5）/ average score, 1 to 5';
COMMENT ON COLUMN reporting.ratings_by_month.low_scores IS '低分（1-2 分）数 / ratings of 1 or 2';

CREATE OR REPLACE VIEW reporting.volunteers AS
SELECT pp.pseudonym AS volunteer, pp.district_code, pp.age_band, pp.gender, pp.status,
       date_trunc('month', v.approved_at AT TIME ZONE 'Asia/Shanghai')::date AS approved_month,
       coalesce(a.earned_minutes, 0) AS earned_minutes,
       round(coalesce(a.earned_minutes, 0) / 60.0, 2) AS earned_coins,
       (SELECT max(substr(m.milestone, 6, 1)::integer) FROM bank.volunteer_milestone m
         WHERE m.person_id = v.person_id AND m.milestone LIKE 'star_%') AS star_level,
       EXISTS (SELECT 1 FROM bank.volunteer_milestone m WHERE m.person_id = v.person_id AND m.milestone = 'coins_10000') AS reached_10000_coins
  FROM bank.volunteer v
  JOIN bank.person_pseudonym pp ON pp.person_id = v.person_id
  LEFT JOIN bank.account a ON a.person_id = v.person_id;
COMMENT ON VIEW reporting.volunteers IS '志愿者（化名）：区、年龄段、状态、获得时间币、星级 / Volunteers under stable pseudonyms: district, age band, status, coins earned, star level.';
COMMENT ON COLUMN reporting.volunteers.volunteer IS '志愿者化名（稳定的带密钥哈希，分析人员无密钥）/ the volunteer''s pseudonym: a stable keyed hash whose key analysts never see';
COMMENT ON COLUMN reporting.volunteers.district_code IS '所在区 / district';
COMMENT ON COLUMN reporting.volunteers.age_band IS '年龄段 / age band';
COMMENT ON COLUMN reporting.volunteers.gender IS '性别 / gender';
COMMENT ON COLUMN reporting.volunteers.status IS '状态：active、suspended、closed / status';
COMMENT ON COLUMN reporting.volunteers.approved_month IS '成为志愿者的月份 / month approved as a volunteer (R1)';
COMMENT ON COLUMN reporting.volunteers.earned_minutes IS '服务获得的分钟数（不含赠与、发放）/ minutes earned by serving (R6; never gifts or grants)';
COMMENT ON COLUMN reporting.volunteers.earned_coins IS '服务获得的时间币 / coins earned by serving';
COMMENT ON COLUMN reporting.volunteers.star_level IS '星级（R13，1-5，无则空）/ star level reached (R13), if any';
COMMENT ON COLUMN reporting.volunteers.reached_10000_coins IS '是否达到一万时间币（R12）/ reached the 10,000-coin milestone (R12)';

CREATE OR REPLACE VIEW reporting.milestones AS
SELECT pp.pseudonym AS volunteer, pp.district_code, pp.age_band, m.milestone,
       m.reached_at, extract(year FROM m.reached_at AT TIME ZONE 'Asia/Shanghai')::integer AS reached_year,
       round(m.earned_minutes / 60.0, 2) AS earned_coins_then
  FROM bank.volunteer_milestone m JOIN bank.person_pseudonym pp ON pp.person_id = m.person_id;
COMMENT ON VIEW reporting.milestones IS '星级与万币里程碑（R12、R13）：何时达到 / Star levels and the 10,000-coin milestone (R12, R13), when each was reached.';
COMMENT ON COLUMN reporting.milestones.volunteer IS '志愿者化名 / the volunteer''s pseudonym';
COMMENT ON COLUMN reporting.milestones.district_code IS '所在区 / district';
COMMENT ON COLUMN reporting.milestones.age_band IS '年龄段 / age band';
COMMENT ON COLUMN reporting.milestones.milestone IS '里程碑：star_1..star_5（R13）、coins_10000（R12）/ milestone';
COMMENT ON COLUMN reporting.milestones.reached_at IS '达到时间 / when reached';
COMMENT ON COLUMN reporting.milestones.reached_year IS '达到年份（北京时间）/ year reached, Beijing time';
COMMENT ON COLUMN reporting.milestones.earned_coins_then IS '当时累计获得的时间币 / coins earned when reached';

CREATE OR REPLACE VIEW reporting.special_elders AS
SELECT pp.pseudonym AS elder, pp.district_code, pp.age_band,
       array_agg(DISTINCT g.grant_category ORDER BY g.grant_category) AS grant_categories,
       sum(g.amount) AS granted_minutes,
       round(sum(g.amount) / 60.0, 2) AS granted_coins,
       coalesce((SELECT sum(t.amount) FROM bank.transfer t
                  WHERE t.debit_account_id = a.id AND t.kind = 'service_payment'), 0) AS spent_minutes,
       round(coalesce((SELECT sum(t.amount) FROM bank.transfer t
                  WHERE t.debit_account_id = a.id AND t.kind = 'service_payment'), 0) / 60.0, 2) AS spent_coins
  FROM bank.transfer g
  JOIN bank.account a ON a.id = g.credit_account_id
  JOIN bank.person_pseudonym pp ON pp.person_id = a.person_id
 WHERE g.kind IN ('grant', 'welfare_grant')
 GROUP BY pp.pseudonym, pp.district_code, pp.age_band, a.id;
COMMENT ON VIEW reporting.special_elders IS '特殊老人（化名）：发放与使用的时间币（R9、R10）/ Special elders under pseudonyms: coins granted (R9, R10) and used.';
COMMENT ON COLUMN reporting.special_elders.elder IS '老人化名 / the elder''s pseudonym';
COMMENT ON COLUMN reporting.special_elders.district_code IS '所在区 / district';
COMMENT ON COLUMN reporting.special_elders.age_band IS '年龄段 / age band';
COMMENT ON COLUMN reporting.special_elders.grant_categories IS '获得发放的特殊老人类别 / categories of special elder granted under';
COMMENT ON COLUMN reporting.special_elders.granted_minutes IS '发放分钟数（区发放与公益发放）/ minutes granted (district and welfare grants)';
COMMENT ON COLUMN reporting.special_elders.granted_coins IS '发放时间币 / coins granted';
COMMENT ON COLUMN reporting.special_elders.spent_minutes IS '支付服务的分钟数（全部来源）/ minutes paid for services (from any source)';
COMMENT ON COLUMN reporting.special_elders.spent_coins IS '支付服务的时间币 / coins spent on services';

CREATE OR REPLACE VIEW reporting.claims_by_month AS
SELECT date_trunc('month', c.created_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       CASE WHEN c.insured_by = 'volunteer_beijing' THEN 'volunteer_beijing'
            WHEN c.insured_by IS NOT NULL THEN 'organisation_policy' ELSE 'none' END AS scheme,
       c.state, count(*) AS claims, sum(c.approved_amount) AS approved_yuan
  FROM bank.accident_claim c
 GROUP BY 1, 2, 3;
COMMENT ON VIEW reporting.claims_by_month IS '意外理赔（R24-R26）：按月、保障方式、状态 / Accident claims by month reported, insurance scheme and state.';
COMMENT ON COLUMN reporting.claims_by_month.month IS '报案月份（北京时间）/ month reported, Beijing time';
COMMENT ON COLUMN reporting.claims_by_month.scheme IS '保障方式：volunteer_beijing（R24）、organisation_policy（R25）、none / insurance scheme';
COMMENT ON COLUMN reporting.claims_by_month.state IS '理赔状态 / claim state';
COMMENT ON COLUMN reporting.claims_by_month.claims IS '理赔数 / claims';
COMMENT ON COLUMN reporting.claims_by_month.approved_yuan IS '核准金额（元）/ amount approved, yuan';

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

-- The analyst role reads reporting and nothing else.
REVOKE ALL ON ALL TABLES IN SCHEMA reporting FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO timebank_analyst;
