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

-- ======================================================================
-- What operators follow (`timebank deliveries|claims|supervision|ledger`
-- and the web console, issue 17 item 2), one definition each. Ids, states
-- and times: no names, national IDs, phones, places or descriptions.

-- Message channels whose last attempt failed for good, or whose job was
-- discarded or cancelled after its last retry.
CREATE OR REPLACE VIEW bank.failed_delivery AS
SELECT m.id AS message_id, m.template, m.recipient_kind, a.channel, a.outcome AS last_outcome, a.http_status, a.answer,
       a.started_at AS last_attempt_at,
       (SELECT count(*) FROM bank.delivery_attempt c
         WHERE c.message_id = m.id AND c.message_created_at = m.created_at AND c.channel = a.channel)::integer AS attempts
  FROM bank.message m
  -- A message's attempts are in its month's partition (message_created_at, 0035).
  JOIN LATERAL (SELECT DISTINCT ON (d.channel) d.channel, d.outcome, d.http_status, d.answer, d.started_at
                  FROM bank.delivery_attempt d WHERE d.message_id = m.id AND d.message_created_at = m.created_at
                 ORDER BY d.channel, d.id DESC) a ON true
  LEFT JOIN LATERAL (SELECT j.state FROM jobs.job j
                      WHERE j.kind = 'notify.deliver' AND j.unique_key = 'deliver:' || m.id ORDER BY j.id DESC LIMIT 1) j ON true
 WHERE a.outcome = 'failed' OR (a.outcome = 'retry' AND j.state IN ('discarded', 'cancelled'));
COMMENT ON VIEW bank.failed_delivery IS 'Deliveries refused (4xx) or given up (last retry discarded), per message and channel. 投递失败';

-- Every attempt to deliver a message.
CREATE OR REPLACE VIEW bank.delivery_attempt_summary AS
SELECT d.id, d.message_id, d.channel, d.started_at, d.latency_ms, d.http_status, d.outcome, d.answer, d.worker
  FROM bank.delivery_attempt d;
COMMENT ON VIEW bank.delivery_attempt_summary IS 'Each attempt to deliver a message: channel, when, latency, answer. 投递尝试';

-- Accident claims: state, insurer, attempts to send, the last answer (not
-- the report's place or description).
CREATE OR REPLACE VIEW bank.claim_summary AS
SELECT c.id, c.service_id, c.state, c.insurer_code, c.created_at,
       (SELECT count(*) FROM bank.claim_delivery_attempt a WHERE a.claim_id = c.id)::integer AS attempts,
       (SELECT coalesce(a.http_status::text || ' ', '') || coalesce(a.answer, '') FROM bank.claim_delivery_attempt a
         WHERE a.claim_id = c.id ORDER BY a.id DESC LIMIT 1) AS last_answer
  FROM bank.accident_claim c;
COMMENT ON VIEW bank.claim_summary IS 'Accident claims: state, insurer, delivery attempts, last answer; no personal data. 保险理赔';

-- R21 alerts: kind, status, the people's ids, the evidence (ids), the decision.
CREATE OR REPLACE VIEW bank.alert_summary AS
SELECT a.id, a.kind, a.status, a.people, a.evidence, a.detected_at, a.decided_at, a.decided_by, a.decision_reason
  FROM bank.alert a;
COMMENT ON VIEW bank.alert_summary IS 'R21: supervision alerts with their evidence (ids) and decision. 监督预警';

-- Issue 9's check-out-to-credited latency over the last hour, from the rows
-- (the settlement worker's histogram is on its /metrics).
CREATE OR REPLACE VIEW bank.settlement_latency AS
SELECT count(*)::integer AS settled_last_hour,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM s.settled_at - s.checked_out_at))::float8 AS median_seconds,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM s.settled_at - s.checked_out_at))::float8 AS p95_seconds,
       max(extract(epoch FROM s.settled_at - s.checked_out_at))::float8 AS max_seconds,
       (SELECT count(*) FROM bank.service w WHERE w.status = 'checked_out' AND w.settled_at IS NULL)::integer AS waiting
  FROM bank.service s
 WHERE s.settled_at > now() - interval '1 hour';
COMMENT ON VIEW bank.settlement_latency IS 'Check-out to credit over the last hour: services settled, median, 95th percentile and longest seconds; services waiting. 结算延迟';

-- The last `timebank ledger verify`.
CREATE OR REPLACE VIEW bank.ledger_verify_last AS
SELECT r.ran_at, r.verified, r.checks FROM bank.ledger_verify_run r ORDER BY r.id DESC LIMIT 1;
COMMENT ON VIEW bank.ledger_verify_last IS 'The last timebank ledger verify: when, whether it held, each check. 最近一次账本核对';

-- The console's own record, newest first (its log-ins, log-outs, actions).
CREATE OR REPLACE VIEW bank.console_recent_action AS
SELECT c.id, a.login, c.action, c.target, c.outcome, c.reason, c.at
  FROM bank.console_action c LEFT JOIN bank.console_account a ON a.id = c.account_id
 WHERE c.at > now() - interval '30 days';
COMMENT ON VIEW bank.console_recent_action IS 'Console log-ins and actions of the last 30 days: who, what, on what, outcome. 控制台操作记录';

GRANT SELECT ON bank.failed_delivery, bank.delivery_attempt_summary, bank.claim_summary, bank.alert_summary,
    bank.settlement_latency, bank.ledger_verify_last, bank.console_recent_action
    TO timebank_console;
