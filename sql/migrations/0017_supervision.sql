-- 0017: supervision (issue 8): R21 alerts and the watch list, R22 the
-- dishonest list.
--
-- R21: alerts are computed in SQL by bank.supervision_scan(), run by the
-- notification worker's supervision.scan jobs: one scheduled every
-- alert_scan_minutes, and one soon after the events that can trigger one (a gift, a check-out late
-- at night, a booking refused for overlapping, a check-out between two
-- people who serve each other). Thresholds and windows are bank.setting
-- rows. Each alert keeps its evidence (the services, transfers or
-- requests behind it), the people and accounts involved, and a status:
-- open, dismissed (with the reason) or confirmed.
--
-- R22: a supervisor's confirmation of fraud (api.confirm_fraud, carried out
-- by the settlement worker) puts the person on the dishonest list,
-- suspends the account for good (no new booking, check-in or settlement,
-- from any worker: the database refuses them, sql/functions/supervision/
-- dishonest.sql), and takes back the
-- coins of the services found fraudulent by correcting transfers
-- (service_reversal, as an upheld R19 report does), never by editing the
-- ledger.

INSERT INTO bank.setting (name, value, description) VALUES
    ('alert_window_days', 30, 'R21 (ours): the window alerts look back over, in days'),
    ('alert_mutual_services', 4, 'R21 (ours): services between two people, in both directions, within the window, that raise an alert'),
    ('alert_gifts', 5, 'R21 (ours): gifts from or to one person within the window that raise an alert'),
    ('alert_overlap_attempts', 3, 'R21, R20 (ours): bookings refused for overlapping, by one volunteer within the window, that raise an alert'),
    ('alert_scan_minutes', 5, 'R21 (ours): how often the scheduled scan runs'),
    ('alert_event_delay_seconds', 30, 'R21 (ours): how long after a triggering event its scan runs (events meanwhile share it)');

CREATE TABLE bank.alert (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- mutual_services, late_night_service, frequent_gifts, overlapping_bookings.
    kind          text NOT NULL CONSTRAINT alert_kind_known CHECK (kind IN (
                      'mutual_services', 'late_night_service', 'frequent_gifts', 'overlapping_bookings')),
    -- What it is about, e.g. mutual:3:7 (two people), late_night:42 (a service), gifts:9 (a person).
    subject       text NOT NULL,
    -- The people and accounts involved (tracked: bank.watch_list).
    people        bigint[] NOT NULL,
    accounts      bigint[] NOT NULL DEFAULT '{}',
    -- {"services": [...]} | {"transfers": [...]} | {"requests": [...]}: the rows behind it.
    evidence      jsonb NOT NULL,
    -- The newest piece of evidence: a decided alert comes back only with newer evidence.
    evidence_at   timestamptz NOT NULL,
    status        text NOT NULL DEFAULT 'open' CONSTRAINT alert_status_known CHECK (status IN ('open', 'dismissed', 'confirmed')),
    detected_at   timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    decided_at    timestamptz,
    decided_by    text,
    decision_reason text,
    -- A decision names who and why.
    CONSTRAINT alert_decision_explained CHECK (
        (status = 'open') = (decided_at IS NULL) AND (decided_at IS NULL OR (decided_by IS NOT NULL AND decision_reason IS NOT NULL)))
);
COMMENT ON TABLE bank.alert IS 'R21: supervisors'' alerts with their evidence, the people and accounts involved, and a decision. 监管预警';
-- One open alert per subject: new evidence updates it.
CREATE UNIQUE INDEX alert_one_open_per_subject ON bank.alert (kind, subject) WHERE status = 'open';
CREATE INDEX alert_people_idx ON bank.alert USING gin (people);

-- R22: the dishonest list.
CREATE TABLE bank.dishonest_person (
    person_id  bigint PRIMARY KEY REFERENCES bank.person,
    reason     text NOT NULL CONSTRAINT dishonest_reason_given CHECK (length(reason) BETWEEN 1 AND 1000),
    decided_by text NOT NULL,
    alert_id   bigint REFERENCES bank.alert,
    request_id bigint NOT NULL CONSTRAINT dishonest_one_per_request UNIQUE REFERENCES bank.request,
    listed_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bank.dishonest_person IS 'R22: people whose fraud a supervisor confirmed: no service is recorded for them any more. 失信名单';