-- api: people. R3 registration (R23: the ID encrypted, its keyed hash
-- unique), R1 volunteers, R4 elders, R5 agent institutions and acting for
-- a person, R8 relatives, R2 guardians, R24-R25 the registry and
-- insurance, suspension and closure, and staff's audited reading of an
-- identity (R23).

-- R1: a registered person applies as a volunteer: 18 or over, a Beijing
-- permanent resident, the time bank's training completed.
CREATE OR REPLACE FUNCTION api.apply_volunteer(person_id bigint, training_completed_on date) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p bank.person := bank.person_for('person_id', person_id);
BEGIN
    IF bank.age(p.birth_date, bank.clock_date()) < bank.setting('volunteer_min_age') THEN
        IF NOT EXISTS (SELECT 1 FROM bank.guardianship g WHERE g.minor_id = apply_volunteer.person_id) THEN
            PERFORM bank.refuse('person_id', 'R1', 'a volunteer must be ' || bank.setting('volunteer_min_age') || ' or over');
        END IF;
        IF NOT bank.minor_may_serve(person_id) THEN
            PERFORM bank.refuse('person_id', 'R2', 'a school student under ' || bank.setting('volunteer_min_age')
                || ' serves only with a verified guardian who is an active volunteer');
        END IF;
    END IF;
    IF NOT p.beijing_resident THEN
        PERFORM bank.refuse('person_id', 'R1', 'a volunteer must be a Beijing permanent resident');
    END IF;
    IF training_completed_on IS NULL OR training_completed_on > bank.clock_date() THEN
        PERFORM bank.refuse('training_completed_on', 'R1', 'a volunteer must have completed the time bank''s training');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.volunteer v WHERE v.person_id = apply_volunteer.person_id) THEN
        PERFORM bank.refuse('person_id', 'R1', 'the person is already a volunteer');
    END IF;
    RETURN bank.submit('apply_volunteer',
        jsonb_build_object('person_id', person_id, 'training_completed_on', training_completed_on),
        'enrollment.apply_volunteer', 'enrollment');
END
$$;
COMMENT ON FUNCTION api.apply_volunteer(bigint, date) IS
'R1：已登记的人申请成为志愿者：年满 18 岁（volunteer_min_age）、北京常住人口、已完成时间银行培训；未满 18 岁的在校学生须有已核实、在册（active）的志愿者监护人（R2）。 / R1: a registered person applies to become a volunteer: 18 or over (volunteer_min_age), a Beijing permanent resident, trained by the time bank; a school student under 18 needs a verified guardian who is an active volunteer (R2).
参数 / Arguments:
- person_id: 申请人 / the person applying
- training_completed_on: 完成培训的日期，不晚于今天 / the day the time bank''s training was completed, not after today
返回 / Returns: 请求编号；由 enrollment 工作进程执行（enrollment.apply_volunteer），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the enrollment worker carries it out (enrollment.apply_volunteer), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- person_id R3: 无此人 / no person is registered with this id
- person_id R1: 未满 18 岁且无监护关系（api.link_guardian）/ under 18 with no guardianship on record (api.link_guardian)
- person_id R2: 未满 18 岁，监护人未核实或不是在册志愿者 / under 18, and no verified guardian who is an active volunteer
- person_id R1: 非北京常住人口 / not a Beijing permanent resident
- training_completed_on R1: 为空或晚于今天 / missing, or after today
- person_id R1: 已是志愿者 / already a volunteer
- person_id R3: 此人账户已暂停或注销 / the person''s account is suspended or closed
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销、职员不在职，或此人不是在该机构登记的人 / acting as an agent (api.act_as_agent): the institution is withdrawn, its staff member inactive, or the person not registered with it';

-- R4: an elder completes identity authentication (60 or over, ours).
CREATE OR REPLACE FUNCTION api.authenticate_elder(person_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p bank.person := bank.person_for('person_id', person_id);
BEGIN
    IF bank.age(p.birth_date, bank.clock_date()) < bank.setting('elder_min_age') THEN
        PERFORM bank.refuse('person_id', 'R4', 'an elder must be ' || bank.setting('elder_min_age') || ' or over');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.elder e WHERE e.person_id = authenticate_elder.person_id) THEN
        PERFORM bank.refuse('person_id', 'R4', 'the elder is already authenticated');
    END IF;
    RETURN bank.submit('authenticate_elder', jsonb_build_object('person_id', person_id),
        'enrollment.authenticate_elder', 'enrollment');
END
$$;
COMMENT ON FUNCTION api.authenticate_elder(bigint) IS
'R4：老人完成身份认证（年满 60 岁，elder_min_age）；认证后可用时间币发布需求（R16）。 / R4: an elder completes identity authentication (60 or over, elder_min_age); an authenticated elder may publish demands with coins (R16).
参数 / Arguments:
- person_id: 认证的老人 / the elder being authenticated
返回 / Returns: 请求编号；由 enrollment 工作进程执行（enrollment.authenticate_elder），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the enrollment worker carries it out (enrollment.authenticate_elder), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- person_id R3: 无此人 / no person is registered with this id
- person_id R4: 未满 60 岁 / under 60
- person_id R4: 已认证 / already authenticated
- person_id R3: 此人账户已暂停或注销 / the person''s account is suspended or closed
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销、职员不在职，或此人不是在该机构登记的人 / acting as an agent (api.act_as_agent): the institution is withdrawn, its staff member inactive, or the person not registered with it';

CREATE OR REPLACE FUNCTION api.declare_relative(person_id bigint, relative_id bigint, relation text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.person_for('person_id', person_id);
    PERFORM bank.person_for('relative_id', relative_id);
    IF person_id = relative_id THEN
        PERFORM bank.refuse('relative_id', 'R8', 'a person is not his or her own relative');
    END IF;
    IF relation IS NULL OR NOT EXISTS (SELECT 1 FROM bank.relation_kind k WHERE k.code = relation) THEN
        PERFORM bank.refuse_code('relation', 'R8', 'lineal relation', relation,
                                 'relation_kind', 'api.relation_kinds');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.relationship r
                WHERE (r.person_id = declare_relative.person_id AND r.relative_id = declare_relative.relative_id)
                   OR (r.person_id = declare_relative.relative_id AND r.relative_id = declare_relative.person_id)) THEN
        PERFORM bank.refuse('relative_id', 'R8', 'this relationship is already declared');
    END IF;
    RETURN bank.submit('declare_relative', jsonb_build_object('person_id', person_id, 'relative_id', relative_id, 'relation', relation),
        'enrollment.declare_relative', 'enrollment');
END
$$;
COMMENT ON FUNCTION api.declare_relative(bigint, bigint, text) IS
'R8：申报直系亲属关系；赠与时间币（api.gift_coins）之前须由职员核实（api.verify_relative）。 / R8: declares a lineal relationship, which staff verify (api.verify_relative) before any gift of coins (api.gift_coins).
参数 / Arguments:
- person_id: 申报人 / the person declaring
- relative_id: 亲属 / the relative
- relation: 亲属对申报人的关系：parent、grandparent、child 或 grandchild / what the relative is to the person: parent, grandparent, child or grandchild
返回 / Returns: 请求编号；由 enrollment 工作进程执行（enrollment.declare_relative），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the enrollment worker carries it out (enrollment.declare_relative), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- person_id R3: 无此人 / no person is registered with this id
- relative_id R3: 无此人 / no person is registered with this id
- relative_id R8: 不能申报自己 / a person is not his or her own relative
- relation R8: 不是上述四种直系关系（消息列出有效代码，api.relation_kinds）/ not one of the four lineal relations (the message lists them, api.relation_kinds)
- relative_id R8: 两人的关系（任一方向）已申报 / the relationship (either way round) is already declared
- person_id R3: 此人账户已暂停或注销 / the person''s account is suspended or closed
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销、职员不在职，或此人不是在该机构登记的人 / acting as an agent (api.act_as_agent): the institution is withdrawn, its staff member inactive, or the person not registered with it';

-- R8: a staff member with the power verify, of either relative's district
-- (or of the city), verifies a declared relationship on its evidence.
CREATE OR REPLACE FUNCTION api.verify_relative(staff_code text, relationship_id bigint, evidence_ref text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'verify', 'R8');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bank.relationship r WHERE r.id = relationship_id AND r.verified_at IS NULL) THEN
        PERFORM bank.refuse('relationship_id', 'R8', 'no declared, unverified relationship has this id');
    END IF;
    PERFORM bank.check_staff_district(m, 'R8', ARRAY(
        SELECT p.district_code FROM bank.relationship r JOIN bank.person p ON p.id IN (r.person_id, r.relative_id)
         WHERE r.id = relationship_id));
    IF evidence_ref IS NULL OR length(btrim(evidence_ref)) = 0 THEN
        PERFORM bank.refuse('evidence_ref', 'R8', 'a verification names its evidence');
    END IF;
    RETURN bank.record_staff_act(m, 'verify', bank.submit('verify_relative',
        jsonb_build_object('relationship_id', relationship_id, 'staff', m.code, 'staff_member_id', m.id, 'evidence_ref', btrim(evidence_ref)),
        'enrollment.verify_relative', 'enrollment'));
END
$$;
COMMENT ON FUNCTION api.verify_relative(text, bigint, text) IS
'R8：职员凭证据核实已申报的亲属关系；须有 verify 权限，属任一方所在区或全市。 / R8: a staff member verifies a declared relationship on its evidence: the power verify, of either relative''s district or city-level.
参数 / Arguments:
- staff_code: 办理的民政职员代码（bank.staff_member）/ the acting civil-affairs staff member''s code (bank.staff_member)
- relationship_id: 已申报、未核实的关系（api.declare_relative 的结果）/ the declared, unverified relationship (from api.declare_relative)
- evidence_ref: 证据的编号或引用 / the reference of the evidence
返回 / Returns: 请求编号（此职员行为连同职员编号记入 bank.staff_act）；由 enrollment 工作进程执行（enrollment.verify_relative），结果见 api.request_status / the request''s id (the act recorded with the member''s id in bank.staff_act); the enrollment worker carries it out (enrollment.verify_relative); its outcome is api.request_status.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- staff_code R8: 无此在职职员，或其无 verify 权限 / no active staff member has this code, or it lacks the power verify
- staff_code R8: 职员属其他区：须为任一方所在区或全市职员 / the member acts for another district: it must be of either relative''s district, or city-level
- relationship_id R8: 无此已申报、未核实的关系 / no declared, unverified relationship has this id
- evidence_ref R8: 未给出证据 / no evidence named';

-- ======================================================================
-- The api

-- R5: from now on this session acts as the institution's staff member
-- (NULLs: as the person again). Checked here and on every request.
CREATE OR REPLACE FUNCTION api.act_as_agent(institution_id bigint, staff_code text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF institution_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM bank.agent_institution i JOIN bank.agent_staff s ON s.institution_id = i.id
         WHERE i.id = act_as_agent.institution_id AND i.withdrawn_at IS NULL AND s.staff_code = act_as_agent.staff_code AND s.active) THEN
        PERFORM bank.refuse('institution_id', 'R5', 'only active staff of a confirmed agent institution act for others');
    END IF;
    PERFORM set_config('timebank.agent_institution', coalesce(institution_id::text, ''), false);
    PERFORM set_config('timebank.agent_staff', coalesce(staff_code, ''), false);
END
$$;
COMMENT ON FUNCTION api.act_as_agent(bigint, text) IS
'R5：此后本会话（会话级设置 timebank.agent_institution、timebank.agent_staff）以代理机构职员身份为在该机构登记的人办理；均为 NULL 时恢复为本人。每个请求再次核对，并记录代理机构与职员。 / R5: from now on this session (the session settings timebank.agent_institution, timebank.agent_staff) acts as the agent institution''s staff member for the people registered with it; NULLs: as the person again. Every request checks it again and records the institution and staff member.
参数 / Arguments:
- institution_id: 经街道或乡镇确认的代理机构（NULL：不再代理）/ the confirmed agent institution (NULL: no longer an agent)
- staff_code: 该机构在职职员的代码 / the code of the institution''s active staff member
返回 / Returns: 无（void）/ nothing (void).
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- institution_id R5: 无此机构、已撤销，或 staff_code 不是其在职职员 / no such institution, it is withdrawn, or staff_code is not its active staff member';

-- R5: a staff member of the institution's district (or of the city) with
-- the power register_institution records an institution a street or
-- township confirmed, with the institution's own staff (`staff`).
CREATE OR REPLACE FUNCTION api.register_agent_institution(staff_code text, name text, district_code text, confirmed_by text,
                                                          confirmation_ref text, staff jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'register_institution', 'R5');
BEGIN
    IF name IS NULL OR length(btrim(name)) = 0 THEN
        PERFORM bank.refuse('name', 'R5', 'an institution has a name');
    END IF;
    PERFORM bank.check_district('district_code', 'R5', district_code);
    PERFORM bank.check_staff_district(m, 'R5', ARRAY[district_code]);
    IF confirmed_by IS NULL OR length(btrim(confirmed_by)) = 0 OR confirmation_ref IS NULL OR length(btrim(confirmation_ref)) = 0 THEN
        PERFORM bank.refuse('confirmed_by', 'R5', 'an agent institution is confirmed by a street or township, with the act''s reference');
    END IF;
    IF staff IS NULL OR jsonb_typeof(staff) <> 'array' OR jsonb_array_length(staff) = 0
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(staff) s WHERE coalesce(s->>'code', '') = '' OR coalesce(s->>'name', '') = '') THEN
        PERFORM bank.refuse('staff', 'R5', 'an institution names its staff: [{"code": ..., "name": ...}]');
    END IF;
    RETURN bank.record_staff_act(m, 'register_institution', bank.submit('register_agent_institution',
        jsonb_build_object('name', btrim(name), 'district_code', district_code, 'confirmed_by', btrim(confirmed_by),
                           'confirmation_ref', btrim(confirmation_ref), 'staff', staff, 'staff_member_id', m.id),
        'enrollment.register_institution', 'enrollment'));
END
$$;
COMMENT ON FUNCTION api.register_agent_institution(text, text, text, text, text, jsonb) IS
'R5：登记经街道或乡镇确认的代理机构及其职员；须有 register_institution 权限，属 district_code 所在区或全市。 / R5: registers an agent institution a street or township confirmed, with its own staff: the power register_institution, of district_code or city-level.
参数 / Arguments:
- staff_code: 办理的民政职员代码（bank.staff_member）/ the acting civil-affairs staff member''s code (bank.staff_member)
- name: 机构名称 / the institution''s name
- district_code: 机构所在区代码 / its district''s code
- confirmed_by: 确认它的街道或乡镇 / the street or township that confirmed it
- confirmation_ref: 确认文件的编号 / the reference of that confirmation
- staff: 机构职员，JSON 数组 [{"code": ..., "name": ...}]，不能为空 / its staff, a non-empty JSON array [{"code": ..., "name": ...}]
返回 / Returns: 请求编号（此职员行为连同职员编号记入 bank.staff_act）；由 enrollment 工作进程执行（enrollment.register_institution），结果见 api.request_status / the request''s id (the act recorded with the member''s id in bank.staff_act); the enrollment worker carries it out (enrollment.register_institution); its outcome is api.request_status.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- staff_code R5: 无此在职职员，或其无 register_institution 权限 / no active staff member has this code, or it lacks the power register_institution
- staff_code R5: 职员属其他区：须为 district_code 所在区或全市职员 / the member acts for another district: it must be of district_code''s district, or city-level
- name R5: 名称为空 / no name
- district_code R5: 无此北京区代码（消息列出有效代码，api.districts）/ no Beijing district has this code (the message lists the valid ones, api.districts)
- confirmed_by R5: 缺少确认单位或确认编号 / the confirming street or township, or its reference, is missing
- staff R5: 不是非空数组，或有职员缺少 code 或 name / not a non-empty array, or a member lacks code or name';

-- R24: imports what Volunteer Beijing sent (bank.volunteer_beijing_feed);
-- idempotent. The registry is the city's: a city-level staff member with
-- the power import_registry.
CREATE OR REPLACE FUNCTION api.import_volunteer_beijing(staff_code text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'import_registry', 'R24');
BEGIN
    RETURN bank.record_staff_act(m, 'import_registry', bank.submit('import_volunteer_beijing',
        jsonb_build_object('staff', m.code, 'staff_member_id', m.id), 'enrollment.import_registry', 'enrollment'));
END
$$;
COMMENT ON FUNCTION api.import_volunteer_beijing(text) IS
'R24：导入志愿北京发来的登记数据（bank.volunteer_beijing_feed），可重复执行；须有 import_registry 权限的全市职员。 / R24: imports what Volunteer Beijing sent (bank.volunteer_beijing_feed); idempotent. A city-level staff member with the power import_registry.
参数 / Arguments:
- staff_code: 办理的民政职员代码（bank.staff_member）/ the acting civil-affairs staff member''s code (bank.staff_member)
返回 / Returns: 请求编号（此职员行为连同职员编号记入 bank.staff_act）；由 enrollment 工作进程执行（enrollment.import_registry），结果见 api.request_status / the request''s id (the act recorded with the member''s id in bank.staff_act); the enrollment worker carries it out (enrollment.import_registry); its outcome is api.request_status.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- staff_code R24: 无此在职职员、无 import_registry 权限，或为区级职员（此为全市事项） / no active staff member has this code, it lacks the power import_registry, or it is a district''s member (this is a city-level act)';

-- R25: the volunteer organisation confirms a personal accident policy; a
-- staff member of the volunteer's district (or of the city) with the power
-- confirm_insurance records it.
CREATE OR REPLACE FUNCTION api.confirm_insurance(staff_code text, person_id bigint, organisation text, policy_number text,
                                                 valid_from date, valid_to date)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'confirm_insurance', 'R25');
    p bank.person := bank.person_for('person_id', person_id);
BEGIN
    PERFORM bank.check_staff_district(m, 'R25', ARRAY[p.district_code]);
    IF NOT EXISTS (SELECT 1 FROM bank.volunteer v WHERE v.person_id = confirm_insurance.person_id) THEN
        PERFORM bank.refuse('person_id', 'R25', 'insurance is confirmed for volunteers');
    END IF;
    IF organisation IS NULL OR length(btrim(organisation)) = 0 THEN
        PERFORM bank.refuse('organisation', 'R25', 'the volunteer organisation that bought the insurance is named');
    END IF;
    IF policy_number IS NULL OR length(btrim(policy_number)) = 0 THEN
        PERFORM bank.refuse('policy_number', 'R25', 'a confirmation gives the policy number');
    END IF;
    IF valid_from IS NULL OR valid_to IS NULL OR valid_to < valid_from THEN
        PERFORM bank.refuse('valid_to', 'R25', 'a policy''s period ends on or after its first day');
    END IF;
    RETURN bank.record_staff_act(m, 'confirm_insurance', bank.submit('confirm_insurance',
        jsonb_build_object('person_id', person_id, 'organisation', btrim(organisation), 'policy_number', btrim(policy_number),
                           'valid_from', valid_from, 'valid_to', valid_to, 'staff', m.code, 'staff_member_id', m.id),
        'enrollment.confirm_insurance', 'enrollment'));
END
$$;
COMMENT ON FUNCTION api.confirm_insurance(text, bigint, text, text, date, date) IS
'R25：记录志愿者组织为未在志愿北京登记的志愿者购买的人身意外保险；须有 confirm_insurance 权限，属志愿者所在区或全市。 / R25: records the personal accident insurance a volunteer organisation bought for a volunteer (one not registered with Volunteer Beijing): the power confirm_insurance, of the volunteer''s district or city-level.
参数 / Arguments:
- staff_code: 办理的民政职员代码（bank.staff_member）/ the acting civil-affairs staff member''s code (bank.staff_member)
- person_id: 投保的志愿者 / the insured volunteer
- organisation: 购买保险的志愿者组织 / the volunteer organisation that bought it
- policy_number: 保单号 / the policy number
- valid_from: 保险起始日 / the policy''s first day
- valid_to: 保险截止日，不早于 valid_from / its last day, not before valid_from
返回 / Returns: 请求编号（此职员行为连同职员编号记入 bank.staff_act）；由 enrollment 工作进程执行（enrollment.confirm_insurance），结果见 api.request_status / the request''s id (the act recorded with the member''s id in bank.staff_act); the enrollment worker carries it out (enrollment.confirm_insurance); its outcome is api.request_status.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- staff_code R25: 无此在职职员，或其无 confirm_insurance 权限 / no active staff member has this code, or it lacks the power confirm_insurance
- staff_code R25: 职员属其他区：须为志愿者所在区或全市职员 / the member acts for another district: it must be of the volunteer''s district, or city-level
- person_id R3: 无此人 / no person is registered with this id
- person_id R25: 不是志愿者 / not a volunteer
- organisation R25: 未写明组织 / no organisation named
- policy_number R25: 未写明保单号 / no policy number
- valid_to R25: 起止日期缺失或截止早于起始 / a day is missing, or the period ends before it starts';

-- R24, R25: insured on a day, and how.
-- (An unknown person, or no day, is refused: issue 19.)
CREATE OR REPLACE FUNCTION api.insured_on(person_id bigint, day date) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM bank.person_for('person_id', person_id);
    IF day IS NULL THEN
        PERFORM bank.refuse('day', 'R25', 'day is required: the day asked about');
    END IF;
    RETURN bank.insured_on(person_id, day);
END
$$;
COMMENT ON FUNCTION api.insured_on(bigint, date) IS
'R24、R25：某人在某日是否有保险，以及何种保险（理赔工作进程以事故当日查询）。 / R24, R25: whether, and how, a person was insured on a day (the insurance-claim worker asks it of an accident''s day).
参数 / Arguments:
- person_id: 被查询的人 / the person
- day: 日期 / the day
返回 / Returns: ''volunteer_beijing''（志愿北京已批准登记，R24），''policy <组织> <保单号>''（已确认的保单，R25），或 NULL（无保险） / ''volunteer_beijing'' (approved by Volunteer Beijing by then, R24), ''policy <organisation> <number>'' (a confirmed policy covering the day, R25), or NULL (not insured).
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- person_id R3: 为空或无此人 / missing, or no person is registered with this id
- day R25: 为空 / missing';

CREATE OR REPLACE FUNCTION api.link_guardian(minor_id bigint, guardian_id bigint, school text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    minor bank.person := bank.person_for('minor_id', minor_id);
BEGIN
    PERFORM bank.person_for('guardian_id', guardian_id);
    IF bank.age(minor.birth_date, bank.clock_date()) >= bank.setting('volunteer_min_age')
       OR bank.age(minor.birth_date, bank.clock_date()) < bank.setting('minor_min_age') THEN
        PERFORM bank.refuse('minor_id', 'R2', 'a guardian leads a school student aged ' || bank.setting('minor_min_age')
            || ' to ' || (bank.setting('volunteer_min_age') - 1));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.volunteer v WHERE v.person_id = guardian_id) OR NOT bank.person_active(guardian_id) THEN
        PERFORM bank.refuse('guardian_id', 'R2', 'the guardian is an active volunteer');
    END IF;
    IF school IS NULL OR length(btrim(school)) = 0 THEN
        PERFORM bank.refuse('school', 'R2', 'the minor is a school student: the school is named');
    END IF;
    RETURN bank.submit('link_guardian', jsonb_build_object('minor_id', minor_id, 'guardian_id', guardian_id, 'school', btrim(school)),
        'enrollment.link_guardian', 'enrollment');
END
$$;
COMMENT ON FUNCTION api.link_guardian(bigint, bigint, text) IS
'R2：为 12 至 17 岁（minor_min_age 至 volunteer_min_age − 1）的在校学生登记监护人；监护人须为在册（active）志愿者，再由职员核实（api.verify_guardian）。 / R2: links a school student aged 12 to 17 (minor_min_age to volunteer_min_age − 1) to a guardian who is an active volunteer; staff then verify it (api.verify_guardian).
参数 / Arguments:
- minor_id: 未成年学生 / the minor
- guardian_id: 监护人 / the guardian
- school: 学生就读的学校 / the minor''s school
返回 / Returns: 请求编号；由 enrollment 工作进程执行（enrollment.link_guardian），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the enrollment worker carries it out (enrollment.link_guardian), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- minor_id R3: 无此人 / no person is registered with this id
- guardian_id R3: 无此人 / no person is registered with this id
- minor_id R2: 年龄不在 12 至 17 岁之间 / not aged 12 to 17
- guardian_id R2: 监护人不是志愿者或账户不在正常状态 / the guardian is not a volunteer, or not active
- school R2: 未写明学校 / no school named
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销、职员不在职，或监护人不是在该机构登记的人（登记监护关系是监护人的行为）/ acting as an agent (api.act_as_agent): the institution is withdrawn, its staff member inactive, or the guardian not registered with it (linking a guardianship is the guardian''s act)';

-- R2: a staff member of the minor's district (or of the city) with the
-- power verify verifies a guardianship on its evidence.
CREATE OR REPLACE FUNCTION api.verify_guardian(staff_code text, minor_id bigint, evidence_ref text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'verify', 'R2');
BEGIN
    PERFORM bank.person_for('minor_id', minor_id);
    IF NOT EXISTS (SELECT 1 FROM bank.guardianship g WHERE g.minor_id = verify_guardian.minor_id AND g.verified_at IS NULL) THEN
        PERFORM bank.refuse('minor_id', 'R2', 'no unverified guardianship concerns this minor');
    END IF;
    PERFORM bank.check_staff_district(m, 'R2', ARRAY(SELECT p.district_code FROM bank.person p WHERE p.id = verify_guardian.minor_id));
    IF evidence_ref IS NULL OR length(btrim(evidence_ref)) = 0 THEN
        PERFORM bank.refuse('evidence_ref', 'R2', 'a verification names its evidence');
    END IF;
    RETURN bank.record_staff_act(m, 'verify', bank.submit('verify_guardian',
        jsonb_build_object('minor_id', minor_id, 'staff', m.code, 'staff_member_id', m.id, 'evidence_ref', btrim(evidence_ref)),
        'enrollment.verify_guardian', 'enrollment'));
END
$$;
COMMENT ON FUNCTION api.verify_guardian(text, bigint, text) IS
'R2：职员凭证据核实未成年人的监护关系；须有 verify 权限，属未成年人所在区或全市。 / R2: a staff member verifies a minor''s guardianship on its evidence: the power verify, of the minor''s district or city-level.
参数 / Arguments:
- staff_code: 办理的民政职员代码（bank.staff_member）/ the acting civil-affairs staff member''s code (bank.staff_member)
- minor_id: 有未核实监护关系的未成年人 / the minor whose guardianship awaits verification
- evidence_ref: 证据的编号或引用 / the reference of the evidence
返回 / Returns: 请求编号（此职员行为连同职员编号记入 bank.staff_act）；由 enrollment 工作进程执行（enrollment.verify_guardian），结果见 api.request_status / the request''s id (the act recorded with the member''s id in bank.staff_act); the enrollment worker carries it out (enrollment.verify_guardian); its outcome is api.request_status.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- staff_code R2: 无此在职职员，或其无 verify 权限 / no active staff member has this code, or it lacks the power verify
- staff_code R2: 职员属其他区：须为未成年人所在区或全市职员 / the member acts for another district: it must be of the minor''s district, or city-level
- minor_id R3: 为空或无此人 / missing, or no person is registered with this id
- minor_id R2: 此未成年人无未核实的监护关系 / no unverified guardianship concerns this minor
- evidence_ref R2: 未给出证据 / no evidence named';

-- Suspension, reinstatement, closure, by a staff member of the person's
-- district (or of the city) with the power set_status. R22: reinstating a
-- person on the dishonest list is refused before anything is written (the
-- database refuses it too: bank.refuse_dishonest_person_change).
CREATE OR REPLACE FUNCTION api.set_person_status(staff_code text, person_id bigint, status text, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'set_status', 'R3');
    p bank.person := bank.person_for('person_id', person_id);
BEGIN
    PERFORM bank.check_staff_district(m, 'R3', ARRAY[p.district_code]);
    IF status IS NULL OR status NOT IN ('active', 'suspended', 'closed') THEN
        PERFORM bank.refuse('status', 'R3', 'a person is active, suspended or closed');
    END IF;
    IF p.status = 'closed' THEN
        PERFORM bank.refuse('person_id', 'R3', 'a closed account stays closed; its history is kept');
    END IF;
    IF status = 'active' AND EXISTS (SELECT 1 FROM bank.dishonest_person d WHERE d.person_id = set_person_status.person_id) THEN
        PERFORM bank.refuse('status', 'R22', 'a person on the dishonest list is not reinstated');
    END IF;
    IF reason IS NULL OR length(btrim(reason)) = 0 THEN
        PERFORM bank.refuse('reason', 'R3', 'a change of status gives the reason');
    END IF;
    IF status = 'closed' AND EXISTS (
        SELECT 1 FROM bank.service s
         WHERE (s.volunteer_id = set_person_status.person_id OR s.elder_id = set_person_status.person_id)
           AND (s.status IN ('awaiting_review', 'published', 'booked', 'in_progress')
                OR (s.status = 'checked_out' AND s.settled_at IS NULL))) THEN
        PERFORM bank.refuse('person_id', 'R3', 'an account with open or unsettled services cannot be closed yet');
    END IF;
    RETURN bank.record_staff_act(m, 'set_status', bank.submit('set_person_status',
        jsonb_build_object('person_id', person_id, 'status', status, 'staff', m.code, 'staff_member_id', m.id, 'reason', btrim(reason)),
        'enrollment.set_status', 'enrollment'));
END
$$;
COMMENT ON FUNCTION api.set_person_status(text, bigint, text, text) IS
'R3：暂停、恢复或注销账户（注销后不能恢复，历史保留）；R22：失信名单上的人不能恢复。须有 set_status 权限，属此人所在区或全市。 / R3: suspends, reinstates or closes an account (a closed account stays closed, its history kept); R22: a person on the dishonest list is not reinstated. The power set_status, of the person''s district or city-level.
参数 / Arguments:
- staff_code: 办理的民政职员代码（bank.staff_member）/ the acting civil-affairs staff member''s code (bank.staff_member)
- person_id: 账户所属的人 / the person
- status: 新状态：active、suspended 或 closed / the new status: active, suspended or closed
- reason: 变更原因 / why
返回 / Returns: 请求编号（此职员行为连同职员编号记入 bank.staff_act）；由 enrollment 工作进程执行（enrollment.set_status），结果见 api.request_status / the request''s id (the act recorded with the member''s id in bank.staff_act); the enrollment worker carries it out (enrollment.set_status); its outcome is api.request_status.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- staff_code R3: 无此在职职员，或其无 set_status 权限 / no active staff member has this code, or it lacks the power set_status
- staff_code R3: 职员属其他区：须为此人所在区或全市职员 / the member acts for another district: it must be of the person''s district, or city-level
- person_id R3: 无此人 / no person is registered with this id
- status R3: 不是 active、suspended、closed 之一 / not active, suspended or closed
- person_id R3: 账户已注销 / the account is closed: it stays closed
- status R22: 失信名单上的人不能恢复为 active / a person on the dishonest list is not reinstated
- reason R3: 未写明原因 / no reason given
- person_id R3: 注销时仍有未结束或未结算的服务 / closing with open or unsettled services';

-- R3, R23: registration. The ID is checked in the clear, then only its
-- hash and ciphertext (and the birth date and gender read from it) enter
-- the request log; the name is removed from it once the person exists.
CREATE OR REPLACE FUNCTION api.register_person(national_id text, name text, phone text, beijing_resident boolean, district_code text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    problem text := bank.national_id_problem(national_id);
    hash bytea;
BEGIN
    IF problem IS NOT NULL THEN
        PERFORM bank.refuse('national_id', 'R3', 'the national ID ' || problem);
    END IF;
    IF bank.national_id_birth_date(national_id) > bank.clock_date() THEN
        PERFORM bank.refuse('national_id', 'R3', 'the national ID holds a birth date in the future');
    END IF;
    hash := bank.personal_data_hash(national_id);
    IF EXISTS (SELECT 1 FROM bank.person p WHERE p.national_id_hash = hash) THEN
        PERFORM bank.refuse('national_id', 'R3', 'a person with this national ID is already registered');
    END IF;
    IF name IS NULL OR length(btrim(name)) NOT BETWEEN 1 AND 100 THEN
        PERFORM bank.refuse('name', 'R3', 'a name of 1 to 100 characters is needed');
    END IF;
    IF phone IS NOT NULL AND phone !~ '^1[3-9][0-9]{9}$' THEN
        PERFORM bank.refuse('phone', 'R3', 'a phone number is a mainland mobile number of 11 digits');
    END IF;
    IF beijing_resident IS NULL THEN
        PERFORM bank.refuse('beijing_resident', 'R1', 'say whether the person is a Beijing permanent resident');
    END IF;
    PERFORM bank.check_district('district_code', 'R15', district_code);
    RETURN bank.submit('register_person',
        jsonb_build_object('national_id_hash', encode(hash, 'hex'),
                           'national_id_encrypted', encode(bank.personal_data_encrypt(national_id), 'base64'),
                           'phone_encrypted', encode(bank.personal_data_encrypt(phone), 'base64'),
                           'birth_date', bank.national_id_birth_date(national_id),
                           'gender', CASE WHEN substr(national_id, 17, 1)::int % 2 = 1 THEN 'male' ELSE 'female' END,
                           'name', btrim(name), 'beijing_resident', beijing_resident, 'district_code', district_code),
        'enrollment.register_person', 'enrollment');
END
$$;
COMMENT ON FUNCTION api.register_person(text, text, text, boolean, text) IS
'R3：登记一个人（一个身份证号一人一账户，全市通用）；R23：身份证号在明文中校验后，只有其密钥哈希与密文（以及由此读出的出生日期与性别）进入请求记录，姓名在登记完成后从中删除。 / R3: registers a person (one person and one account per national ID, citywide); R23: the ID is checked in the clear, then only its keyed hash and ciphertext (and the birth date and gender read from it) enter the request log, and the name leaves it once the person exists.
参数 / Arguments:
- national_id: 18 位居民身份证号（GB 11643-1999，末位为校验码或 X）/ the 18-character national ID (GB 11643-1999, its last a check digit or X)
- name: 姓名，1 至 100 字 / the name, 1 to 100 characters
- phone: 大陆 11 位手机号，可为 NULL；加密存储 / a mainland mobile number of 11 digits, or NULL; stored encrypted
- beijing_resident: 是否北京常住人口（R1 需要）/ whether a Beijing permanent resident (R1 needs it)
- district_code: 所在区代码 / the district''s code
返回 / Returns: 请求编号；由 enrollment 工作进程执行（enrollment.register_person），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the enrollment worker carries it out (enrollment.register_person), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- national_id R3: 格式、出生日期或校验码错误，出生日期在未来，或此身份证号已登记 / a wrong format, birth date or check digit, a birth date in the future, or the ID is registered already
- name R3: 不是 1 至 100 字 / not 1 to 100 characters
- phone R3: 不是 11 位大陆手机号 / not a mainland mobile number of 11 digits
- beijing_resident R1: 为空 / missing
- district_code R15: 无此北京区代码（消息列出有效代码，api.districts）/ no Beijing district has this code (the message lists the valid ones, api.districts)
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销或职员不在职 / acting as an agent (api.act_as_agent): the institution is withdrawn or its staff member inactive
同一身份证号的两个登记同时提交时，后者的请求以 R3 被拒 / of two registrations of one ID at once, the later request is refused (R3).';

-- R23: a staff member's read of a person's national ID and phone number,
-- in two steps so that no read goes unrecorded (issue 15, finding 4: a
-- read recorded in the transaction that returned the data vanished with
-- its rollback). First the read is recorded, naming the staff member (who
-- holds read_personal_data, for the person's district or the whole city:
-- finding 9) and the purpose, in a transaction of its own; then, within 10
-- minutes and from the same login, api.read_personal_data shows the data,
-- and only for a read some earlier transaction committed.
CREATE OR REPLACE FUNCTION api.record_personal_data_read(staff_code text, person_id bigint, purpose text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    member bank.staff_member := bank.acting_staff(staff_code, 'read_personal_data', 'R23');
    p bank.person := bank.person_for('person_id', person_id);
    recorded bigint;
BEGIN
    PERFORM bank.check_staff_district(member, 'R23', ARRAY[p.district_code]);
    IF purpose IS NULL OR length(btrim(purpose)) NOT BETWEEN 1 AND 500 THEN
        PERFORM bank.refuse('purpose', 'R23', 'a read of personal data names its purpose');
    END IF;
    INSERT INTO bank.personal_data_read (person_id, staff, purpose, staff_member_id)
    VALUES (person_id, member.code, btrim(purpose), member.id)
    RETURNING id INTO recorded;
    RETURN recorded;
END
$$;
COMMENT ON FUNCTION api.record_personal_data_read(text, bigint, text) IS
'R23：记录一次职员查阅某人身份证号与手机号的行为及目的；须有 read_personal_data 权限，属此人所在区或全市。先在单独事务中提交，10 分钟内由同一登录调用 api.read_personal_data 查看。 / R23: records a staff member''s read of a person''s national ID and phone number, with its purpose: the power read_personal_data, of the person''s district or city-level. Commit it in a transaction of its own; then, within 10 minutes and from the same login, api.read_personal_data shows the data.
参数 / Arguments:
- staff_code: 办理的民政职员代码（bank.staff_member）/ the acting civil-affairs staff member''s code (bank.staff_member)
- person_id: 被查阅的人 / the person whose data is read
- purpose: 查阅目的，1 至 500 字 / the purpose, 1 to 500 characters
返回 / Returns: 查阅记录的编号（bank.personal_data_read），供 api.read_personal_data 使用 / the read''s id (bank.personal_data_read), for api.read_personal_data.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- staff_code R23: 无此在职职员，或其无 read_personal_data 权限 / no active staff member has this code, or it lacks the power read_personal_data
- staff_code R23: 职员属其他区：须为此人所在区或全市职员 / the member acts for another district: it must be of the person''s district, or city-level
- person_id R3: 无此人 / no person is registered with this id
- purpose R23: 未写明目的或超过 500 字 / no purpose, or more than 500 characters';

CREATE OR REPLACE FUNCTION api.read_personal_data(read_id bigint) RETURNS TABLE (national_id text, phone text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    recorded bank.personal_data_read;
BEGIN
    SELECT * INTO recorded FROM bank.personal_data_read r
     WHERE r.id = read_id AND r.login = session_user AND r.message_id IS NULL;
    IF recorded.id IS NULL THEN
        PERFORM bank.refuse('read_id', 'R23', 'no read of personal data with id ' || coalesce(read_id::text, 'NULL') || ' was recorded by this login');
    END IF;
    -- Recorded by this transaction (read_at is its own start): not yet committed, so not yet a record.
    IF recorded.read_at >= now() THEN
        PERFORM bank.refuse('read_id', 'R23', 'a read is shown only once its record is committed: call api.record_personal_data_read in a transaction of its own first');
    END IF;
    IF recorded.read_at < now() - interval '10 minutes' THEN
        PERFORM bank.refuse('read_id', 'R23', 'a recorded read is valid for 10 minutes: record another');
    END IF;
    RETURN QUERY SELECT bank.personal_data_decrypt(p.national_id_encrypted), bank.personal_data_decrypt(p.phone_encrypted)
                   FROM bank.person p WHERE p.id = recorded.person_id;
END
$$;
COMMENT ON FUNCTION api.read_personal_data(bigint) IS
'R23：显示一次已记录并已提交的查阅（api.record_personal_data_read，同一登录，10 分钟内）所涉的身份证号与手机号。 / R23: the national ID and phone number of a read that api.record_personal_data_read recorded, from this login, in a transaction already committed, within the last 10 minutes.
参数 / Arguments:
- read_id: api.record_personal_data_read 返回的编号 / the id api.record_personal_data_read returned
返回 / Returns: 一行：national_id 身份证号，phone 手机号（可为 NULL），均为明文 / one row: national_id and phone (NULL when none), in the clear.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- read_id R23: 本登录没有此编号的查阅记录 / this login recorded no read with this id
- read_id R23: 记录尚未提交（在同一事务中）/ its record is not committed yet (the same transaction)
- read_id R23: 记录已超过 10 分钟 / recorded more than 10 minutes ago: record another';
