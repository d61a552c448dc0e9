-- The bank schema's views: what workers and operators read instead of
-- joining the tables themselves. Applied after every function (see
-- sql/README.md); a change of a view's columns is made here, and a column
-- removed or retyped needs a numbered migration that drops the view first.

-- R19 (0009): each volunteer's and each district's ratings.
CREATE OR REPLACE VIEW bank.volunteer_rating AS
SELECT s.volunteer_id, count(*) AS ratings, round(avg(r.score), 2) AS average_score
  FROM bank.service_rating r JOIN bank.service s ON s.id = r.service_id
 GROUP BY s.volunteer_id;
COMMENT ON VIEW bank.volunteer_rating IS 'R19: ratings per volunteer.';
CREATE OR REPLACE VIEW bank.district_rating AS
SELECT s.district_code, count(*) AS ratings, round(avg(r.score), 2) AS average_score
  FROM bank.service_rating r JOIN bank.service s ON s.id = r.service_id
 GROUP BY s.district_code;
COMMENT ON VIEW bank.district_rating IS 'R19: ratings per district.';
GRANT SELECT ON bank.volunteer_rating, bank.district_rating TO timebank_order, timebank_settlement;

-- Each person as reports see them (owner only: the reporting views join it).
CREATE OR REPLACE VIEW bank.person_pseudonym AS
SELECT p.id AS person_id,
       'p_' || left(encode(public.hmac(p.id::text::bytea, k.key, 'sha256'), 'hex'), 16) AS pseudonym,
       p.district_code, reporting.age_band(p.birth_date) AS age_band, p.gender, p.status
  FROM bank.person p CROSS JOIN bank.pseudonym_key k;
COMMENT ON VIEW bank.person_pseudonym IS 'People as reports see them: pseudonym, district, age band; for the reporting views only. 人员化名';

-- R21: what supervisors watch: everyone involved in an alert.
CREATE OR REPLACE VIEW bank.watch_list AS
SELECT p.person_id,
       (SELECT a.id FROM bank.account a WHERE a.person_id = p.person_id) AS account_id,
       count(*) FILTER (WHERE al.status = 'open') AS open_alerts,
       count(*) FILTER (WHERE al.status = 'confirmed') AS confirmed_alerts,
       array_agg(DISTINCT al.kind ORDER BY al.kind) AS kinds,
       max(al.updated_at) AS last_alert_at,
       EXISTS (SELECT 1 FROM bank.dishonest_person d WHERE d.person_id = p.person_id) AS dishonest
  FROM bank.alert al CROSS JOIN LATERAL unnest(al.people) AS p(person_id)
 WHERE al.status <> 'dismissed'
 GROUP BY p.person_id;
COMMENT ON VIEW bank.watch_list IS 'R21: the people (and accounts) involved in open or confirmed alerts; `timebank supervision watch`. 重点关注名单';

-- R23: the numbers missing from the record of detail reads (0023): each is
-- a read whose transaction was rolled back (its whole record is in the
-- server log), up to the sequence's last number, so a read rolled back
-- after the last recorded one shows too. For the privacy officer.
CREATE OR REPLACE VIEW bank.reporting_detail_read_gaps AS
WITH numbered AS (
    SELECT r.id, lag(r.id, 1, 0::bigint) OVER (ORDER BY r.id) AS previous FROM bank.reporting_detail_read r
    UNION ALL
    SELECT s.last_value + 1, coalesce((SELECT max(r.id) FROM bank.reporting_detail_read r), 0)
      FROM bank.reporting_detail_read_id_seq s WHERE s.is_called)
SELECT n.previous + 1 AS first_missing, n.id - 1 AS last_missing
  FROM numbered n WHERE n.id > n.previous + 1;
COMMENT ON VIEW bank.reporting_detail_read_gaps IS 'R23: numbers missing from bank.reporting_detail_read: detail reads rolled back (the server log has each). 明细查阅记录缺号';
