-- 0003: reference data, configuration, people, and the request log.
--
-- Owners (DESIGN.md "Processes"):
--   enrollment-worker  bank.person, bank.volunteer, bank.elder
--   every worker       finishes the requests it handles (bank.request)
--   migrations         reference data and bank.setting
--
-- Each worker role gets what its runtime needs from the job engine here,
-- and, migration by migration, exactly the tables it owns.

-- The job engine, for every worker role: claim, complete, rescue, prune,
-- enqueue follow-up jobs, and say it is idle.
GRANT SELECT, INSERT, UPDATE, DELETE ON jobs.job, jobs.idle_worker
    TO timebank_enrollment, timebank_order, timebank_settlement, timebank_notification, timebank_insurance_claim;
GRANT SELECT ON jobs.queue
    TO timebank_enrollment, timebank_order, timebank_settlement, timebank_notification, timebank_insurance_claim;

-- Numbers the rules need that the seeds do not give (DOMAIN.md: "the
-- number is ours ... keep it configurable"). Read by the api functions and
-- the workers; changed by operators with plain SQL.
CREATE TABLE bank.setting (
    name        text PRIMARY KEY CONSTRAINT setting_named CHECK (name ~ '^[a-z][a-z0-9_]*$'),
    value       integer NOT NULL,
    description text NOT NULL
);
COMMENT ON TABLE bank.setting IS 'Rule parameters (ages, limits, grace periods) in one place, so that none is a constant in code. 规则参数';
INSERT INTO bank.setting (name, value, description) VALUES
    ('volunteer_min_age', 18, 'R1: a volunteer is 18 or over'),
    ('elder_min_age', 60, 'R4 (ours): an elder is 60 or over'),
    ('very_old_min_age', 80, 'R9 (ours): the very old, a category of special elder, are 80 or over'),
    ('grant_max_coins', 1000, 'R9 (ours): the most coins one district grant may carry'),
    ('demand_min_minutes', 15, 'R16 (ours): the shortest service a demand may ask for'),
    ('demand_max_minutes', 480, 'R16 (ours): the longest service a demand may ask for'),
    ('check_in_early_minutes', 60, 'R18 (ours): how long before the start a volunteer may check in'),
    ('no_show_grace_minutes', 30, 'R18 (ours): after the start plus this, a booked volunteer who has not checked in is a no-show and the hold is released'),
    ('star_1_hours', 100, 'R13 (ours): one-star volunteer, hours served'),
    ('star_2_hours', 300, 'R13 (ours): two-star volunteer, hours served'),
    ('star_3_hours', 600, 'R13 (ours): three-star volunteer, hours served'),
    ('star_4_hours', 1000, 'R13 (ours): four-star volunteer, hours served'),
    ('star_5_hours', 1500, 'R13 (ours): five-star volunteer, hours served'),
    ('milestone_coins', 10000, 'R12: earned coins that qualify a volunteer for a public elder-care institution'),
    ('transfer_max_coins', 1000, 'R8, R10 (ours): the most coins one gift, donation or welfare grant may carry'),
    ('redeem_min_age', 60, 'R7: a volunteer spends his or her own coins from this age, on the service date'),
    ('suspended_settlement_retry_minutes', 60, 'Lifecycle (ours): how long the settlement of a suspended volunteer''s service waits before it is looked at again'),
    ('dispute_window_days', 7, 'R19 (ours): days after check-out within which an elder may report that a service was not given'),
    ('minor_min_age', 12, 'R2 (ours): the youngest school student who may serve with a guardian');

-- Beijing's sixteen districts (administrative division codes).
CREATE TABLE bank.district (
    code    text PRIMARY KEY CONSTRAINT district_code_beijing CHECK (code ~ '^11[0-9]{4}$'),
    name_zh text NOT NULL,
    name_en text NOT NULL
);
COMMENT ON TABLE bank.district IS 'Beijing''s districts: where people live, services happen and grants come from. 北京市各区';
INSERT INTO bank.district (code, name_zh, name_en) VALUES
    ('110101', '东城区', 'Dongcheng'), ('110102', '西城区', 'Xicheng'), ('110105', '朝阳区', 'Chaoyang'),
    ('110106', '丰台区', 'Fengtai'), ('110107', '石景山区', 'Shijingshan'), ('110108', '海淀区', 'Haidian'),
    ('110109', '门头沟区', 'Mentougou'), ('110111', '房山区', 'Fangshan'), ('110112', '通州区', 'Tongzhou'),
    ('110113', '顺义区', 'Shunyi'), ('110114', '昌平区', 'Changping'), ('110115', '大兴区', 'Daxing'),
    ('110116', '怀柔区', 'Huairou'), ('110117', '平谷区', 'Pinggu'), ('110118', '密云区', 'Miyun'),
    ('110119', '延庆区', 'Yanqing');

-- R9: who a district may grant free coins to.
CREATE TABLE bank.special_elder_category (
    code    text PRIMARY KEY,
    name_zh text NOT NULL,
    name_en text NOT NULL
);
COMMENT ON TABLE bank.special_elder_category IS 'R9: the categories of special elders districts grant coins to. 特殊老年人类别';
INSERT INTO bank.special_elder_category (code, name_zh, name_en) VALUES
    ('economically_disadvantaged', '经济困难', 'economically disadvantaged'),
    ('severely_disabled', '重度失能', 'severely disabled or incapacitated'),
    ('dementia', '失智', 'with dementia'),
    ('special_family_planning', '计划生育特殊家庭', 'family with special family-planning circumstances'),
    ('severely_handicapped', '重度残疾', 'severely handicapped'),
    ('very_old', '高龄', 'very old (80 and over)'),
    ('urgent_need', '其他急需', 'other elders in urgent need');

-- R14: the eight categories of service.
CREATE TABLE bank.service_category (
    code    text PRIMARY KEY,
    name_zh text NOT NULL,
    name_en text NOT NULL
);
COMMENT ON TABLE bank.service_category IS 'R14: the eight categories of service. 八类服务';
INSERT INTO bank.service_category (code, name_zh, name_en) VALUES
    ('emotional_comfort', '情感慰藉', 'emotional comfort'),
    ('assistance', '协助服务', 'assistance'),
    ('travel_companionship', '出行陪伴', 'travel companionship'),
    ('culture_sports', '文体活动', 'culture and sports'),
    ('health_education', '健康科普', 'health education'),
    ('legal_aid', '法律援助', 'legal aid'),
    ('training_lectures', '培训讲座', 'training and lectures'),
    ('anti_fraud', '防诈骗指导', 'guidance against financial and online fraud');

-- ======================================================================
-- R5: agent institutions, confirmed by a street or township, act for
-- people who cannot use a smartphone: a client session names the
-- institution and staff member (api.act_as_agent), and every request it
-- makes records them; only for the people registered with the institution.

CREATE TABLE bank.agent_institution (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL CONSTRAINT institution_named CHECK (length(name) BETWEEN 1 AND 200),
    district_code  text NOT NULL REFERENCES bank.district,
    -- The street office or township government that confirmed it, and the act's reference.
    confirmed_by   text NOT NULL,
    confirmation_ref text NOT NULL,
    confirmed_at   timestamptz NOT NULL DEFAULT now(),
    -- An institution whose confirmation was withdrawn acts no more.
    withdrawn_at   timestamptz
);
COMMENT ON TABLE bank.agent_institution IS 'R5: professional institutions a street or township confirmed to act for people who cannot use a smartphone. 代理机构';

CREATE TABLE bank.agent_staff (
    institution_id bigint NOT NULL REFERENCES bank.agent_institution,
    staff_code     text NOT NULL CONSTRAINT staff_code_given CHECK (length(staff_code) BETWEEN 1 AND 50),
    name           text NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    PRIMARY KEY (institution_id, staff_code)
);
COMMENT ON TABLE bank.agent_staff IS 'R5: the staff members of an agent institution who act for its people. 代理机构工作人员';

-- Everything a client asked for, through the api functions. The api
-- function records the request and enqueues its first job in the same
-- transaction; the worker that finishes it records the outcome. Clients
-- read it with api.request_status, or LISTEN on timebank_requests after
-- api.watch_request.
CREATE TABLE bank.request (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The api function called, e.g. publish_demand.
    kind        text NOT NULL,
    -- The validated input. Personal data (a registration's name, ID and
    -- phone) is removed once the person is registered.
    args        jsonb NOT NULL CONSTRAINT request_args_object CHECK (jsonb_typeof(args) = 'object'),
    status      text NOT NULL DEFAULT 'pending'
                CONSTRAINT request_status_known CHECK (status IN ('pending', 'completed', 'refused')),
    -- What the request produced (ids), when completed.
    result      jsonb,
    -- Why it was refused, naming the rule (refusals found by a worker:
    -- a race lost to another request, say).
    refusal     text,
    -- A client is LISTENing for this request's end.
    watched     boolean NOT NULL DEFAULT false,
    -- R5: who made it: the person (both NULL), or an agent institution's staff member.
    agent_institution_id bigint REFERENCES bank.agent_institution,
    agent_staff text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    -- A request is finished exactly when it has an outcome.
    CONSTRAINT request_finished_dated CHECK ((status = 'pending') = (finished_at IS NULL)),
    -- A refusal always says why.
    CONSTRAINT request_refusal_explained CHECK ((status = 'refused') = (refusal IS NOT NULL)),
    -- An agent's request names both the institution and the staff member.
    CONSTRAINT request_agent_complete CHECK ((agent_institution_id IS NULL) = (agent_staff IS NULL))
);
COMMENT ON TABLE bank.request IS 'The request log: every api call that was accepted, its input and its outcome. 请求记录';

GRANT SELECT, UPDATE (status, result, refusal, finished_at, args) ON bank.request
    TO timebank_enrollment, timebank_order, timebank_settlement;
GRANT SELECT ON bank.setting, bank.district, bank.special_elder_category, bank.service_category
    TO timebank_enrollment, timebank_order, timebank_settlement, timebank_notification, timebank_insurance_claim;

-- People (R3: one per national ID).
CREATE TABLE bank.person (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- R3: one person per national ID, valid citywide. (Issue 8 stores it
    -- encrypted with a keyed hash for look-up.)
    -- (Until issue 14 two checks here called bank.national_id_problem and
    -- bank.national_id_birth_date; the column and its checks went in 0018,
    -- and a migration calls no function of sql/functions, so they are gone
    -- from this text: the api and the enrollment worker validate the ID.)
    national_id      text NOT NULL CONSTRAINT person_one_per_national_id UNIQUE,
    name             text NOT NULL CONSTRAINT person_name_length CHECK (length(name) BETWEEN 1 AND 100),
    -- A mainland mobile number.
    phone            text CONSTRAINT person_phone_mobile CHECK (phone ~ '^1[3-9][0-9]{9}$'),
    -- Derived from the national ID, never entered: they cannot disagree.
    birth_date       date NOT NULL,
    gender           text NOT NULL CONSTRAINT person_gender_known CHECK (gender IN ('female', 'male')),
    -- R1: a Beijing permanent resident (household registration or residence permit).
    beijing_resident boolean NOT NULL,
    district_code    text NOT NULL REFERENCES bank.district,
    -- The registration request that created it: a retried job finds it.
    request_id       bigint NOT NULL CONSTRAINT person_one_per_request UNIQUE REFERENCES bank.request,
    registered_at    timestamptz NOT NULL DEFAULT now(),
    -- active; suspended (books nothing, is paid nothing new until
    -- reinstated); closed (nothing new; the history is kept).
    status           text NOT NULL DEFAULT 'active' CONSTRAINT person_status_known CHECK (status IN ('active', 'suspended', 'closed')),
    status_reason    text,
    status_request_id bigint REFERENCES bank.request,
    -- R5: the agent institution the person is registered with (it may act for the person).
    agent_institution_id bigint REFERENCES bank.agent_institution
);
COMMENT ON TABLE bank.person IS 'Everyone registered: volunteers, elders, both. R3: one per national ID. 人员';

-- R1: volunteers, approved by the enrollment worker.
CREATE TABLE bank.volunteer (
    person_id             bigint PRIMARY KEY REFERENCES bank.person,
    -- R1: the time bank's training, completed on this day.
    training_completed_on date NOT NULL,
    approved_at           timestamptz NOT NULL DEFAULT now(),
    request_id            bigint NOT NULL REFERENCES bank.request
);
COMMENT ON TABLE bank.volunteer IS 'R1: people approved as volunteers. 志愿者';

-- R4: elders who completed identity authentication.
CREATE TABLE bank.elder (
    person_id        bigint PRIMARY KEY REFERENCES bank.person,
    authenticated_at timestamptz NOT NULL DEFAULT now(),
    request_id       bigint NOT NULL REFERENCES bank.request
);
COMMENT ON TABLE bank.elder IS 'R4: elders who completed identity authentication and may publish demands. 老年人';

CREATE TABLE bank.guardianship (
    minor_id     bigint PRIMARY KEY REFERENCES bank.person,
    guardian_id  bigint NOT NULL REFERENCES bank.person,
    -- R2: the minor is a school student; the school named.
    school       text NOT NULL CONSTRAINT guardianship_school_named CHECK (length(school) BETWEEN 1 AND 200),
    request_id   bigint NOT NULL CONSTRAINT guardianship_one_per_request UNIQUE REFERENCES bank.request,
    linked_at    timestamptz NOT NULL DEFAULT now(),
    verified_at  timestamptz,
    verified_by  text,
    evidence_ref text,
    CONSTRAINT guardianship_of_two_people CHECK (minor_id <> guardian_id),
    CONSTRAINT guardianship_verification_complete CHECK (
        (verified_at IS NULL) = (verified_by IS NULL) AND (verified_at IS NULL) = (evidence_ref IS NULL))
);
COMMENT ON TABLE bank.guardianship IS 'R2: a school student under 18 and the guardian (an active volunteer) who leads him or her, verified by staff. 未成年人监护';

GRANT SELECT, INSERT ON bank.person, bank.volunteer, bank.elder TO timebank_enrollment;
-- The others see who a person is by id, age and district, never by name,
-- national ID or phone (R23).
GRANT SELECT (id, birth_date, district_code, beijing_resident, status, agent_institution_id) ON bank.person TO timebank_order, timebank_settlement;
GRANT UPDATE (status, status_reason, status_request_id) ON bank.person TO timebank_enrollment;
GRANT SELECT, INSERT ON bank.agent_institution, bank.agent_staff TO timebank_enrollment;
GRANT SELECT, INSERT, UPDATE ON bank.guardianship TO timebank_enrollment;
GRANT SELECT ON bank.guardianship TO timebank_order;
GRANT SELECT ON bank.volunteer, bank.elder TO timebank_order, timebank_settlement;