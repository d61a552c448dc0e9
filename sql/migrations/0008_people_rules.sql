-- 0008: who people are and who acts for them: insured status (R24, R25),
-- suspension and closure, agent institutions (R5), and a record of who
-- performed every change of a service's state. (The columns and tables
-- these rules need in bank.person, bank.request and bank.agent_* are in
-- 0003; bank.submit, which checks agents and suspensions, is in 0006.)

-- The registry's own role: it fills bank.volunteer_beijing_feed, nothing else.
DO $roles$
BEGIN
    CREATE ROLE timebank_registry NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$roles$;
GRANT USAGE ON SCHEMA bank TO timebank_registry, timebank_api;

-- ======================================================================
-- R24: Volunteer Beijing, the city's registry. A volunteer registered
-- there under a real name and approved is insured.

-- What the registry exports, as it sends it (COPY into this table, or
-- INSERT by the registry's role); the import job reads it, any number of times.
CREATE TABLE bank.volunteer_beijing_feed (
    record_id          text PRIMARY KEY,
    national_id        text NOT NULL,
    real_name_verified boolean NOT NULL,
    approved_on        date,
    received_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bank.volunteer_beijing_feed IS 'R24: records as Volunteer Beijing exports them; imported by enrollment.import_registry. 志愿北京数据';
GRANT INSERT, SELECT ON bank.volunteer_beijing_feed TO timebank_registry;

CREATE TABLE bank.volunteer_beijing_registration (
    person_id   bigint PRIMARY KEY REFERENCES bank.person,
    record_id   text NOT NULL CONSTRAINT registration_one_per_record UNIQUE,
    approved_on date NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bank.volunteer_beijing_registration IS 'R24: volunteers registered under their real name and approved by Volunteer Beijing: insured from approved_on. 志愿北京实名注册';

-- R25: a volunteer not registered there is insured by a policy the
-- volunteer organisation confirms.
CREATE TABLE bank.insurance_policy (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id     bigint NOT NULL REFERENCES bank.person,
    organisation  text NOT NULL CONSTRAINT policy_organisation_named CHECK (length(organisation) BETWEEN 1 AND 200),
    policy_number text NOT NULL CONSTRAINT policy_number_given CHECK (length(policy_number) BETWEEN 1 AND 100),
    coverage      daterange NOT NULL CONSTRAINT policy_coverage_bounded CHECK (NOT isempty(coverage) AND NOT upper_inf(coverage)),
    confirmed_by  text NOT NULL,
    confirmed_at  timestamptz NOT NULL DEFAULT now(),
    request_id    bigint NOT NULL CONSTRAINT policy_one_per_request UNIQUE REFERENCES bank.request,
    CONSTRAINT policy_number_once UNIQUE (organisation, policy_number, person_id)
);
COMMENT ON TABLE bank.insurance_policy IS 'R25: personal accident insurance a volunteer organisation confirmed for a volunteer not registered with Volunteer Beijing. 意外保险';
CREATE INDEX insurance_policy_person_idx ON bank.insurance_policy (person_id);

-- Every change of a service's status, with the request that made it
-- (and so who performed it: the person or the agent); NULL for the
-- system's own (expiry, no-show).
CREATE TABLE bank.service_event (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id bigint NOT NULL REFERENCES bank.service,
    status     bank.service_status NOT NULL,
    request_id bigint REFERENCES bank.request,
    at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bank.service_event IS 'R5: every state a service entered, when, and by which request (whose performer the request records). 服务状态记录';
CREATE INDEX service_event_service_idx ON bank.service_event (service_id, id);
GRANT SELECT, INSERT ON bank.volunteer_beijing_registration, bank.insurance_policy TO timebank_enrollment;
GRANT SELECT ON bank.volunteer_beijing_feed TO timebank_enrollment;
GRANT SELECT ON bank.volunteer_beijing_registration, bank.insurance_policy TO timebank_insurance_claim;
GRANT SELECT (id) ON bank.person TO timebank_insurance_claim;
GRANT USAGE ON SCHEMA bank TO timebank_insurance_claim;
GRANT INSERT, SELECT ON bank.service_event TO timebank_order;