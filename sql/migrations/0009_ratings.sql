-- 0009: R19, ratings and reports that a service was not given. After
-- check-out the elder (or the agent institution acting for the elder, R5)
-- rates the service once; within a configured number of days the elder
-- may report that it was not given. Staff decide; an upheld report
-- reverses the settlement with a correcting transfer from the volunteer
-- back to the elder (transfers are never edited), as far as the
-- volunteer's available coins allow, and records the rest as a debt.

CREATE TABLE bank.service_rating (
    service_id bigint PRIMARY KEY REFERENCES bank.service,
    -- R19: satisfaction, 1 (poor) to 5 (excellent).
    score      smallint NOT NULL CONSTRAINT rating_score_range CHECK (score BETWEEN 1 AND 5),
    comment    text CONSTRAINT rating_comment_length CHECK (length(comment) <= 500),
    rated_at   timestamptz NOT NULL DEFAULT now(),
    request_id bigint NOT NULL REFERENCES bank.request
);
COMMENT ON TABLE bank.service_rating IS 'R19: the elder''s (or agent''s) satisfaction with a service, once per service. 服务评价';

CREATE TABLE bank.service_dispute (
    service_id       bigint PRIMARY KEY REFERENCES bank.service,
    reason           text NOT NULL CONSTRAINT dispute_reason_given CHECK (length(reason) BETWEEN 1 AND 500),
    reported_at      timestamptz NOT NULL DEFAULT now(),
    request_id       bigint NOT NULL REFERENCES bank.request,
    -- Staff's decision (written by the settlement worker, which reverses).
    decided_at       timestamptz,
    decided_by       text,
    upheld           boolean,
    decision_note    text,
    reversed_minutes bigint,
    -- What the volunteer could not pay back: owed to the elder.
    debt_minutes     bigint,
    CONSTRAINT dispute_decision_complete CHECK (
        (decided_at IS NULL) = (upheld IS NULL) AND (decided_at IS NULL) = (decided_by IS NULL)
        AND (upheld IS DISTINCT FROM true OR (reversed_minutes >= 0 AND debt_minutes >= 0)))
);
COMMENT ON TABLE bank.service_dispute IS 'R19: reports that a service was not given, and staff''s decisions; an upheld one is reversed by a correcting transfer. 服务未提供申诉';
GRANT SELECT, INSERT ON bank.service_rating TO timebank_order;
GRANT SELECT, INSERT ON bank.service_dispute TO timebank_order;
GRANT SELECT, UPDATE (decided_at, decided_by, upheld, decision_note, reversed_minutes, debt_minutes) ON bank.service_dispute TO timebank_settlement;
GRANT SELECT ON bank.service_rating TO timebank_order, timebank_settlement;  -- and its views: sql/views/bank.sql