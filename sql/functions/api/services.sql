-- api: services. R14-R16 demands and their review, R17 finding and
-- booking, R18 check-in and check-out, cancellation, R15 district items,
-- R2 minors joining a guardian's booking, R19 ratings and reports that a
-- service was not given, and their decision.

-- R4, R16: an authenticated elder with enough available coins publishes a
-- demand. Its coins are held first (by the settlement worker, the
-- ledger's only writer); then it awaits review.
CREATE OR REPLACE FUNCTION api.publish_demand(
    elder_id bigint, category_code text, district_code text, description text, starts_at timestamptz, minutes bigint
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p bank.person := bank.person_for('elder_id', elder_id);
BEGIN
    -- An infinite or far time would fail later as a bare "timestamp out of
    -- range" (issue 19): refused first, naming the field.
    IF NOT isfinite(starts_at) OR starts_at >= '9999-01-01' THEN
        PERFORM bank.refuse('starts_at', 'R16', 'a demand starts at a finite time before the year 9999');
    END IF;
    IF starts_at IS NOT NULL
       AND bank.age(p.birth_date, (starts_at AT TIME ZONE 'Asia/Shanghai')::date) < bank.setting('redeem_min_age')
       AND EXISTS (SELECT 1 FROM bank.volunteer v WHERE v.person_id = elder_id) THEN
        PERFORM bank.refuse('elder_id', 'R7', 'a volunteer spends his or her own coins on services only from age '
            || bank.setting('redeem_min_age') || ' on the service date');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.elder e WHERE e.person_id = elder_id) THEN
        PERFORM bank.refuse('elder_id', 'R4', 'only an elder who completed identity authentication may publish a demand');
    END IF;
    PERFORM bank.check_service_category('category_code', 'R14', category_code);
    PERFORM bank.check_district('district_code', 'R15', district_code);
    IF description IS NULL OR length(btrim(description)) NOT BETWEEN 1 AND 500 THEN
        PERFORM bank.refuse('description', 'R16', 'a description of 1 to 500 characters is needed');
    END IF;
    IF starts_at IS NULL OR starts_at <= bank.clock_now() OR date_trunc('minute', starts_at) <> starts_at THEN
        PERFORM bank.refuse('starts_at', 'R16', 'a demand starts in the future, on a whole minute');
    END IF;
    IF minutes IS NULL OR minutes NOT BETWEEN bank.setting('demand_min_minutes') AND bank.setting('demand_max_minutes') THEN
        PERFORM bank.refuse('minutes', 'R16', 'a demand lasts ' || bank.setting('demand_min_minutes') || ' to '
            || bank.setting('demand_max_minutes') || ' minutes');
    END IF;
    IF bank.available_minutes(elder_id) < minutes THEN
        PERFORM bank.refuse('minutes', 'R16', format('the elder has %s available minutes, and the demand needs %s',
            bank.available_minutes(elder_id), minutes));
    END IF;
    RETURN bank.submit('publish_demand',
        jsonb_build_object('elder_id', elder_id, 'category_code', category_code, 'district_code', district_code,
                           'description', btrim(description), 'starts_at', starts_at, 'minutes', minutes),
        'settlement.hold', 'settlement');
END
$$;
COMMENT ON FUNCTION api.publish_demand(bigint, text, text, text, timestamptz, bigint) IS
'R4、R16：已认证、可用余额足够的老人发布服务需求；时间币先被冻结（结算工作进程），再待职员审核（api.review_demand）。R7：本人也是志愿者时，须在服务当天年满 60 岁（redeem_min_age）才能花自己的时间币。 / R4, R16: an authenticated elder with enough available coins publishes a demand; its coins are held first (by the settlement worker), then it awaits review (api.review_demand). R7: an elder who is also a volunteer spends his or her own coins only from 60 (redeem_min_age) on the service date.
参数 / Arguments:
- elder_id: 发布需求的老人 / the elder
- category_code: 服务类别（R14，bank.service_category：emotional_comfort、assistance、travel_companionship、culture_sports、health_education、legal_aid、training_lectures、anti_fraud） / the service category (R14, bank.service_category: emotional_comfort, assistance, travel_companionship, culture_sports, health_education, legal_aid, training_lectures, anti_fraud)
- district_code: 服务所在区代码 / the service''s district
- description: 需求说明，1 至 500 字 / what is needed, 1 to 500 characters
- starts_at: 开始时间，须在未来、为整分钟 / when it starts: in the future, on a whole minute
- minutes: 时长，15 至 480 分钟（demand_min_minutes、demand_max_minutes），须不超过可用余额 / how long, 15 to 480 minutes (demand_min_minutes, demand_max_minutes), within the available balance
返回 / Returns: 请求编号；由 settlement 工作进程执行（settlement.hold），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the settlement worker carries it out (settlement.hold), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- elder_id R3: 无此人 / no person is registered with this id
- elder_id R7: 本人是志愿者，服务当天未满 60 岁 / a volunteer under 60 on the service date
- elder_id R4: 未完成老人身份认证 / not an authenticated elder
- category_code R14: 无此服务类别（消息列出有效代码，api.service_categories）/ no such category (the message lists the valid ones, api.service_categories)
- district_code R15: 无此北京区代码（消息列出有效代码，api.districts）/ no Beijing district has this code (the message lists the valid ones, api.districts)
- description R16: 不是 1 至 500 字 / not 1 to 500 characters
- starts_at R16: 为空、不在未来、不是整分钟、为无穷或不早于 9999 年 / missing, not in the future, not on a whole minute, infinite, or not before the year 9999
- minutes R16: 不在 15 至 480 分钟之间，或超过可用余额 / not 15 to 480 minutes, or more than the available minutes
- elder_id R3: 此人账户已暂停或注销 / the person''s account is suspended or closed
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销、职员不在职，或此人不是在该机构登记的人 / acting as an agent (api.act_as_agent): the institution is withdrawn, its staff member inactive, or the person not registered with it
两个需求争用老人最后的时间币时，后者的请求以 R16 被拒 / of two demands for an elder''s last coins, the later request is refused (R16).';

-- R16: staff review a demand before volunteers see it: a member of the
-- service's district (or of the city) with the power review.
CREATE OR REPLACE FUNCTION api.review_demand(staff_code text, service_id bigint, approve boolean, note text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'review', 'R16');
    s bank.service := bank.service_for(service_id);
BEGIN
    PERFORM bank.check_staff_district(m, 'R16', ARRAY[s.district_code]);
    IF approve IS NULL THEN
        PERFORM bank.refuse('approve', 'R16', 'a review approves or rejects');
    END IF;
    IF s.status <> 'awaiting_review' THEN
        PERFORM bank.refuse('service_id', 'R16', 'the demand is ' || s.status || ', not awaiting review');
    END IF;
    RETURN bank.record_staff_act(m, 'review', bank.submit('review_demand',
        jsonb_build_object('service_id', service_id, 'reviewer', m.code, 'staff_member_id', m.id, 'approve', approve, 'note', note),
        'order.review', 'order'));
END
$$;
COMMENT ON FUNCTION api.review_demand(text, bigint, boolean, text) IS
'R16：职员在志愿者看到之前审核需求；须有 review 权限，属服务所在区或全市。 / R16: staff review a demand before volunteers see it: the power review, of the service''s district or city-level.
参数 / Arguments:
- staff_code: 办理的民政职员代码（bank.staff_member）/ the acting civil-affairs staff member''s code (bank.staff_member)
- service_id: 待审核的服务 / the service awaiting review
- approve: true 批准发布，false 驳回 / true publishes it, false rejects it
- note: 审核意见（可为 NULL）/ the reviewer''s note (optional)
返回 / Returns: 请求编号（此职员行为连同职员编号记入 bank.staff_act）；由 order 工作进程执行（order.review），结果见 api.request_status / the request''s id (the act recorded with the member''s id in bank.staff_act); the order worker carries it out (order.review); its outcome is api.request_status.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- staff_code R16: 无此在职职员，或其无 review 权限 / no active staff member has this code, or it lacks the power review
- staff_code R16: 职员属其他区：须为服务所在区或全市职员 / the member acts for another district: it must be of the service''s district, or city-level
- service_id R16: 无此服务 / no service has this id
- approve R16: 为空 / missing
- service_id R16: 服务不在待审核状态 / the service is not awaiting review';

-- R17, R20: a volunteer books a published service.
CREATE OR REPLACE FUNCTION api.book_service(service_id bigint, volunteer_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    PERFORM bank.person_for('volunteer_id', volunteer_id);
    IF NOT EXISTS (SELECT 1 FROM bank.volunteer v WHERE v.person_id = volunteer_id) THEN
        PERFORM bank.refuse('volunteer_id', 'R1', 'only an approved volunteer may book a service');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.guardianship g JOIN bank.person p ON p.id = g.minor_id
                WHERE g.minor_id = volunteer_id AND bank.age(p.birth_date, (s.starts_at AT TIME ZONE 'Asia/Shanghai')::date)
                                                    < bank.setting('volunteer_min_age')) THEN
        PERFORM bank.refuse('volunteer_id', 'R2', 'a minor does not book alone, but joins the service his or her guardian booked');
    END IF;
    IF s.status <> 'published' OR s.starts_at <= bank.clock_now() THEN
        PERFORM bank.refuse('service_id', 'R17', 'the service is not open for booking');
    END IF;
    IF s.elder_id = volunteer_id THEN
        PERFORM bank.refuse('volunteer_id', 'R17', 'a volunteer cannot serve his or her own demand');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.service o
                WHERE o.volunteer_id = book_service.volunteer_id AND o.status IN ('booked', 'in_progress', 'checked_out')
                  AND tstzrange(o.starts_at, o.ends_at) && tstzrange(s.starts_at, s.ends_at)) THEN
        PERFORM bank.refuse('service_id', 'R20', 'the volunteer has another booking at an overlapping time');
    END IF;
    RETURN bank.submit('book_service', jsonb_build_object('service_id', service_id, 'volunteer_id', volunteer_id),
        'order.book', 'order');
END
$$;
COMMENT ON FUNCTION api.book_service(bigint, bigint) IS
'R17、R20：志愿者预约一项已发布、尚未开始的服务；同一志愿者不能预约时间重叠的服务。 / R17, R20: a volunteer books a published service that has not started; no volunteer books two services whose times overlap.
参数 / Arguments:
- service_id: 已发布的服务 / the published service
- volunteer_id: 预约的志愿者 / the volunteer booking it
返回 / Returns: 请求编号；由 order 工作进程执行（order.book），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the order worker carries it out (order.book), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- service_id R16: 无此服务 / no service has this id
- volunteer_id R3: 为空或无此人 / missing, or no person is registered with this id
- volunteer_id R1: 不是志愿者 / not an approved volunteer
- volunteer_id R2: 服务当天未满 18 岁的未成年人不能单独预约，须加入监护人预约的服务（api.join_as_minor）/ a minor (under 18 on the service date) does not book alone, but joins the guardian''s service (api.join_as_minor)
- service_id R17: 服务未发布或已开始 / not published, or already started
- volunteer_id R17: 不能为自己的需求服务 / a volunteer does not serve his or her own demand
- service_id R20: 与此志愿者的其他预约时间重叠 / overlaps another booking of the volunteer
- volunteer_id R3: 此人账户已暂停或注销 / the person''s account is suspended or closed
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销、职员不在职，或此人不是在该机构登记的人 / acting as an agent (api.act_as_agent): the institution is withdrawn, its staff member inactive, or the person not registered with it
两个重叠的预约同时提交时，后者的请求以 R20 被拒 / of two overlapping bookings at once, the later request is refused (R20).';

-- R18: the booked volunteer checks in (from a configured time before the start).
CREATE OR REPLACE FUNCTION api.check_in(service_id bigint, volunteer_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    PERFORM bank.person_for('volunteer_id', volunteer_id);
    -- The service's state first (issue 19): a check-in twice, or of a
    -- service nobody booked, says so rather than blaming the volunteer.
    IF s.status <> 'booked' THEN
        PERFORM bank.refuse('service_id', 'R18', 'the service is ' || s.status || '; a volunteer checks in to a booked service');
    END IF;
    IF s.volunteer_id IS DISTINCT FROM volunteer_id THEN
        PERFORM bank.refuse('volunteer_id', 'R18', 'only the volunteer who booked the service checks in');
    END IF;
    IF bank.clock_now() < s.starts_at - bank.setting('check_in_early_minutes') * interval '1 minute' THEN
        PERFORM bank.refuse('service_id', 'R18', 'check-in opens ' || bank.setting('check_in_early_minutes') || ' minutes before the start');
    END IF;
    -- Nor after the booked end: the time served is counted within the
    -- booking (R6), so a check-in after it records no service time, and the
    -- service is a no-show once start + no_show_grace_minutes has passed.
    IF bank.clock_now() >= s.ends_at THEN
        PERFORM bank.refuse('service_id', 'R18', 'check-in closes at the booked end (' || to_char(s.ends_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') || ' Beijing time)');
    END IF;
    RETURN bank.submit('check_in', jsonb_build_object('service_id', service_id, 'volunteer_id', volunteer_id),
        'order.check_in', 'order');
END
$$;
COMMENT ON FUNCTION api.check_in(bigint, bigint) IS
'R18：预约的志愿者签到：从开始前 check_in_early_minutes（60）分钟起，至预约结束时止。 / R18: the booked volunteer checks in: from check_in_early_minutes (60) before the start until the booked end.
参数 / Arguments:
- service_id: 已预约的服务 / the booked service
- volunteer_id: 预约的志愿者 / the volunteer who booked it
返回 / Returns: 请求编号；由 order 工作进程执行（order.check_in），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the order worker carries it out (order.check_in), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- service_id R16: 无此服务 / no service has this id
- volunteer_id R3: 为空或无此人 / missing, or no person is registered with this id
- service_id R18: 服务不在已预约状态（消息写明其状态）/ the service is not booked (the message names its state)
- volunteer_id R18: 不是此志愿者预约的 / not booked by this volunteer
- service_id R18: 签到尚未开放，或已过预约结束时间 / check-in is not open yet, or the booked end has passed
- volunteer_id R3: 此人账户已暂停或注销 / the person''s account is suspended or closed
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销、职员不在职，或此人不是在该机构登记的人 / acting as an agent (api.act_as_agent): the institution is withdrawn, its staff member inactive, or the person not registered with it';

-- R18, R6: the volunteer checks out; the settlement follows.
CREATE OR REPLACE FUNCTION api.check_out(service_id bigint, volunteer_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    PERFORM bank.person_for('volunteer_id', volunteer_id);
    -- The service's state first (issue 19): a check-out before the
    -- check-in, or a second one, says which state the service is in.
    IF s.status = 'checked_out' THEN
        PERFORM bank.refuse('service_id', 'R18', 'the service is checked_out already (at '
            || bank.local_time_text(s.checked_out_at) || ' Beijing time); a service is checked out once');
    END IF;
    IF s.status <> 'in_progress' THEN
        PERFORM bank.refuse('service_id', 'R18', 'the service is ' || s.status || ', not in_progress: a volunteer checks out after checking in');
    END IF;
    IF s.volunteer_id IS DISTINCT FROM volunteer_id THEN
        PERFORM bank.refuse('volunteer_id', 'R18', 'only the volunteer who checked in checks out');
    END IF;
    RETURN bank.submit('check_out', jsonb_build_object('service_id', service_id, 'volunteer_id', volunteer_id),
        'order.check_out', 'order');
END
$$;
COMMENT ON FUNCTION api.check_out(bigint, bigint) IS
'R18、R6：签到的志愿者签退；随后结算，服务时间按 1 小时 1 个时间币记入志愿者账户。账户暂停的志愿者也可签退。 / R18, R6: the volunteer who checked in checks out; the settlement follows, crediting the time served (1 coin an hour) to the volunteer. A suspended volunteer may still check out.
参数 / Arguments:
- service_id: 进行中的服务 / the service in progress
- volunteer_id: 签到的志愿者 / the volunteer who checked in
返回 / Returns: 请求编号；由 order 工作进程执行（order.check_out），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the order worker carries it out (order.check_out), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- service_id R16: 无此服务 / no service has this id
- volunteer_id R3: 为空或无此人 / missing, or no person is registered with this id
- service_id R18: 服务不在进行中：尚未签到，或已签退（消息写明其状态）/ the service is not in progress: not checked in yet, or checked out already (the message names its state)
- volunteer_id R18: 不是此志愿者签到的 / not checked in by this volunteer
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销、职员不在职，或此人不是在该机构登记的人 / acting as an agent (api.act_as_agent): the institution is withdrawn, its staff member inactive, or the person not registered with it';

-- The elder cancels a demand that has not begun; its hold is released.
CREATE OR REPLACE FUNCTION api.cancel_service(service_id bigint, elder_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    PERFORM bank.person_for('elder_id', elder_id);
    IF s.elder_id IS DISTINCT FROM elder_id THEN
        PERFORM bank.refuse('elder_id', 'R16', 'only the elder who published a demand cancels it');
    END IF;
    IF s.status NOT IN ('awaiting_review', 'published', 'booked') THEN
        PERFORM bank.refuse('service_id', 'R16', 'a service that is ' || s.status || ' can no longer be cancelled');
    END IF;
    RETURN bank.submit('cancel_service', jsonb_build_object('service_id', service_id, 'elder_id', elder_id),
        'order.cancel', 'order');
END
$$;
COMMENT ON FUNCTION api.cancel_service(bigint, bigint) IS
'R16：老人取消尚未开始的需求（待审核、已发布或已预约），冻结的时间币随即退回。账户暂停的老人也可取消。 / R16: the elder cancels a demand that has not begun (awaiting review, published or booked); its hold is released. A suspended elder may still cancel.
参数 / Arguments:
- service_id: 要取消的服务 / the service
- elder_id: 发布它的老人 / the elder who published it
返回 / Returns: 请求编号；由 order 工作进程执行（order.cancel），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the order worker carries it out (order.cancel), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- service_id R16: 无此服务 / no service has this id
- elder_id R3: 为空或无此人 / missing, or no person is registered with this id
- elder_id R16: 不是发布此需求的老人 / not the elder who published it
- service_id R16: 服务已进行、完成或结束，不能取消 / the service can no longer be cancelled
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销、职员不在职，或此人不是在该机构登记的人 / acting as an agent (api.act_as_agent): the institution is withdrawn, its staff member inactive, or the person not registered with it';

-- A service as its elder and volunteer see it.
CREATE OR REPLACE FUNCTION api.service_status(service_id bigint)
RETURNS TABLE (status text, starts_at timestamptz, booked_minutes integer, volunteer_id bigint,
               checked_in_at timestamptz, checked_out_at timestamptz, settled_minutes integer, settled_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.status::text, s.starts_at, s.booked_minutes, s.volunteer_id, s.checked_in_at, s.checked_out_at,
           s.settled_minutes, s.settled_at
      FROM bank.service s WHERE s.id = service_id
$$;
COMMENT ON FUNCTION api.service_status(bigint) IS
'服务的当前状态，供老人和志愿者查看。 / A service as its elder and volunteer see it.
参数 / Arguments:
- service_id: 服务编号 / the service
返回 / Returns: 一行：status、starts_at、booked_minutes、volunteer_id、checked_in_at、checked_out_at、settled_minutes、settled_at / one row: status, starts_at, booked_minutes, volunteer_id, checked_in_at, checked_out_at, settled_minutes, settled_at.
拒绝 / Refusals: 无；找不到时不返回行 / none: an unknown id gives no row.';

-- A service's history: each state, when, and who performed it (R5): the
-- elder or the volunteer (by role, never by name), an agent institution's
-- staff member for one of them, a staff member of the desk (the member's
-- code, bank.staff_act), or the system.
CREATE OR REPLACE FUNCTION api.service_history(service_id bigint)
RETURNS TABLE (status text, at timestamptz, performed_by text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT e.status::text, e.at,
           CASE WHEN e.request_id IS NULL THEN 'system'
                WHEN m.id IS NOT NULL THEN 'staff ' || m.code
                WHEN r.agent_institution_id IS NOT NULL THEN 'agent ' || r.agent_institution_id || ' staff ' || r.agent_staff
                                                            || ' for the ' || bank.request_party(r)
                ELSE bank.request_party(r) END
      FROM bank.service_event e LEFT JOIN bank.request r ON r.id = e.request_id
      LEFT JOIN bank.staff_act a ON a.request_id = r.id LEFT JOIN bank.staff_member m ON m.id = a.staff_member_id
     WHERE e.service_id = service_history.service_id
     ORDER BY e.id
$$;
COMMENT ON FUNCTION api.service_history(bigint) IS
'R5：服务的历史：每个状态、时间，以及由谁办理。 / R5: a service''s history: each state, when, and who performed it.
参数 / Arguments:
- service_id: 服务编号 / the service
返回 / Returns: 每个状态一行（按先后）：status、at、performed_by：''elder''（老人本人）、''volunteer''（志愿者本人），''agent <机构编号> staff <职员> for the elder''（或 for the volunteer：代理机构及其职员），''staff <职员代码>''（民政职员，如审核），''system''（工作进程，如过期、未到）；不含姓名 / one row per state, in order: status, at, performed_by: ''elder'' or ''volunteer'' (the person), ''agent <institution id> staff <code> for the elder'' (or for the volunteer: the agent institution and its staff member), ''staff <member code>'' (the civil-affairs desk, a review), or ''system'' (a worker: expiry, no-show); never a name.
拒绝 / Refusals: 无；找不到时无行 / none: an unknown service gives no rows.';

CREATE OR REPLACE FUNCTION api.rate_service(service_id bigint, elder_id bigint, score integer, comment text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    PERFORM bank.person_for('elder_id', elder_id);
    IF s.elder_id IS DISTINCT FROM elder_id THEN
        PERFORM bank.refuse('elder_id', 'R19', 'the elder served (or the agent for the elder) rates the service');
    END IF;
    IF s.status <> 'checked_out' THEN
        PERFORM bank.refuse('service_id', 'R19', 'a service is rated after check-out');
    END IF;
    IF score IS NULL OR score NOT BETWEEN 1 AND 5 THEN
        PERFORM bank.refuse('score', 'R19', 'a rating is 1 to 5');
    END IF;
    IF length(comment) > 500 THEN
        PERFORM bank.refuse('comment', 'R19', 'a comment is at most 500 characters');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.service_rating x WHERE x.service_id = rate_service.service_id) THEN
        PERFORM bank.refuse('service_id', 'R19', 'the service is already rated');
    END IF;
    RETURN bank.submit('rate_service', jsonb_build_object('service_id', service_id, 'elder_id', elder_id, 'score', score, 'comment', comment),
        'order.rate', 'order');
END
$$;
COMMENT ON FUNCTION api.rate_service(bigint, bigint, integer, text) IS
'R19：服务签退后，老人（或代理机构）为服务评分，每项服务一次。 / R19: after check-out the elder (or the agent institution for the elder) rates the service, once.
参数 / Arguments:
- service_id: 已签退的服务 / the checked-out service
- elder_id: 接受服务的老人 / the elder served
- score: 1 至 5 分 / 1 to 5
- comment: 评语，至多 500 字（可为 NULL）/ a comment, at most 500 characters (optional)
返回 / Returns: 请求编号；由 order 工作进程执行（order.rate），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the order worker carries it out (order.rate), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- service_id R16: 无此服务 / no service has this id
- elder_id R3: 为空或无此人 / missing, or no person is registered with this id
- elder_id R19: 不是接受此服务的老人 / not the elder served
- service_id R19: 服务未签退，或已评分 / not checked out, or already rated
- score R19: 不是 1 至 5 / not 1 to 5
- comment R19: 超过 500 字 / more than 500 characters
- elder_id R3: 此人账户已暂停或注销 / the person''s account is suspended or closed
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销、职员不在职，或此人不是在该机构登记的人 / acting as an agent (api.act_as_agent): the institution is withdrawn, its staff member inactive, or the person not registered with it';

CREATE OR REPLACE FUNCTION api.report_not_given(service_id bigint, elder_id bigint, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    PERFORM bank.person_for('elder_id', elder_id);
    IF s.elder_id IS DISTINCT FROM elder_id THEN
        PERFORM bank.refuse('elder_id', 'R19', 'the elder served (or the agent for the elder) reports the service');
    END IF;
    IF s.status <> 'checked_out' THEN
        PERFORM bank.refuse('service_id', 'R19', 'only a checked-out service can be reported as not given');
    END IF;
    IF bank.clock_now() > s.checked_out_at + bank.setting('dispute_window_days') * interval '1 day' THEN
        PERFORM bank.refuse('service_id', 'R19', 'a report comes within ' || bank.setting('dispute_window_days') || ' days of check-out');
    END IF;
    IF reason IS NULL OR length(btrim(reason)) NOT BETWEEN 1 AND 500 THEN
        PERFORM bank.refuse('reason', 'R19', 'a report says what happened (1 to 500 characters)');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.service_dispute x WHERE x.service_id = report_not_given.service_id) THEN
        PERFORM bank.refuse('service_id', 'R19', 'the service is already reported');
    END IF;
    RETURN bank.submit('report_not_given', jsonb_build_object('service_id', service_id, 'elder_id', elder_id, 'reason', btrim(reason)),
        'order.report_not_given', 'order');
END
$$;
COMMENT ON FUNCTION api.report_not_given(bigint, bigint, text) IS
'R19：老人（或代理机构）在签退后 dispute_window_days（7）天内报告服务实际未提供；由职员裁决（api.decide_report）。 / R19: the elder (or the agent for the elder) reports, within dispute_window_days (7) of check-out, that the service was not given; staff decide (api.decide_report).
参数 / Arguments:
- service_id: 已签退的服务 / the checked-out service
- elder_id: 接受服务的老人 / the elder served
- reason: 发生了什么，1 至 500 字 / what happened, 1 to 500 characters
返回 / Returns: 请求编号；由 order 工作进程执行（order.report_not_given），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the order worker carries it out (order.report_not_given), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- service_id R16: 无此服务 / no service has this id
- elder_id R3: 为空或无此人 / missing, or no person is registered with this id
- elder_id R19: 不是接受此服务的老人 / not the elder served
- service_id R19: 服务未签退、已超过报告期限，或已报告 / not checked out, past the window, or already reported
- reason R19: 不是 1 至 500 字 / not 1 to 500 characters
- elder_id R3: 此人账户已暂停或注销 / the person''s account is suspended or closed
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销、职员不在职，或此人不是在该机构登记的人 / acting as an agent (api.act_as_agent): the institution is withdrawn, its staff member inactive, or the person not registered with it';

-- R19: a staff member of the service's district (or of the city) with the
-- power decide_dispute upholds or dismisses a report that it was not given.
CREATE OR REPLACE FUNCTION api.decide_report(staff_code text, service_id bigint, upheld boolean, note text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'decide_dispute', 'R19');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bank.service_dispute x WHERE x.service_id = decide_report.service_id AND x.decided_at IS NULL) THEN
        PERFORM bank.refuse('service_id', 'R19', 'no undecided report concerns this service');
    END IF;
    PERFORM bank.check_staff_district(m, 'R19', ARRAY(SELECT s.district_code FROM bank.service s WHERE s.id = decide_report.service_id));
    IF upheld IS NULL THEN
        PERFORM bank.refuse('upheld', 'R19', 'a decision upholds or dismisses');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.service s WHERE s.id = decide_report.service_id AND s.settled_at IS NULL) THEN
        PERFORM bank.refuse('service_id', 'R19', 'the service is not settled yet; decide once it is');
    END IF;
    RETURN bank.record_staff_act(m, 'decide_dispute', bank.submit('decide_report',
        jsonb_build_object('service_id', service_id, 'staff', m.code, 'staff_member_id', m.id, 'upheld', upheld, 'note', note),
        'settlement.decide_dispute', 'settlement'));
END
$$;
COMMENT ON FUNCTION api.decide_report(text, bigint, boolean, text) IS
'R19：职员裁决"服务未提供"的报告：成立则以冲正转账收回时间币，不足部分记为欠款；须有 decide_dispute 权限，属服务所在区或全市。 / R19: a staff member upholds or dismisses a report that a service was not given: upheld, its coins are taken back by a correcting transfer, any shortfall recorded as a debt. The power decide_dispute, of the service''s district or city-level.
参数 / Arguments:
- staff_code: 办理的民政职员代码（bank.staff_member）/ the acting civil-affairs staff member''s code (bank.staff_member)
- service_id: 被报告的服务 / the service reported
- upheld: true 成立，false 不成立 / true upholds the report, false dismisses it
- note: 裁决说明（可为 NULL）/ the decision''s note (optional)
返回 / Returns: 请求编号（此职员行为连同职员编号记入 bank.staff_act）；由 settlement 工作进程执行（settlement.decide_dispute），结果见 api.request_status / the request''s id (the act recorded with the member''s id in bank.staff_act); the settlement worker carries it out (settlement.decide_dispute); its outcome is api.request_status.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- staff_code R19: 无此在职职员，或其无 decide_dispute 权限 / no active staff member has this code, or it lacks the power decide_dispute
- staff_code R19: 职员属其他区：须为服务所在区或全市职员 / the member acts for another district: it must be of the service''s district, or city-level
- service_id R19: 此服务无未裁决的报告，或尚未结算 / no undecided report concerns the service, or it is not settled yet
- upheld R19: 为空 / missing';

-- R15: staff define a district's (or, with district NULL, the city's)
-- item: a member of that district (a city-wide item: of the city) with the
-- power define_item.
CREATE OR REPLACE FUNCTION api.define_service_item(staff_code text, district_code text, category_code text, name_zh text, name_en text,
                                                   default_minutes integer)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'define_item', 'R15');
BEGIN
    IF district_code IS NOT NULL THEN
        PERFORM bank.check_district('district_code', 'R15', district_code);
    END IF;
    PERFORM bank.check_staff_district(m, 'R15', CASE WHEN district_code IS NULL THEN '{}' ELSE ARRAY[district_code] END);
    PERFORM bank.check_service_category('category_code', 'R14', category_code);
    IF name_zh IS NULL OR length(btrim(name_zh)) NOT BETWEEN 1 AND 100 THEN
        PERFORM bank.refuse('name_zh', 'R15', 'an item has a Chinese name of 1 to 100 characters');
    END IF;
    IF default_minutes IS NULL OR default_minutes NOT BETWEEN bank.setting('demand_min_minutes') AND bank.setting('demand_max_minutes') THEN
        PERFORM bank.refuse('default_minutes', 'R15', 'an item lasts ' || bank.setting('demand_min_minutes') || ' to '
            || bank.setting('demand_max_minutes') || ' minutes');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.service_item i WHERE i.district_code IS NOT DISTINCT FROM define_service_item.district_code
                  AND i.name_zh = btrim(define_service_item.name_zh)) THEN
        PERFORM bank.refuse('name_zh', 'R15', 'the district already has an item of that name');
    END IF;
    -- Clients list items in both languages (api.service_items, issue 19).
    IF name_en IS NULL OR length(btrim(name_en)) NOT BETWEEN 1 AND 100 THEN
        PERFORM bank.refuse('name_en', 'R15', 'an item has an English name of 1 to 100 characters');
    END IF;
    RETURN bank.record_staff_act(m, 'define_item', bank.submit('define_service_item',
        jsonb_build_object('district_code', district_code, 'category_code', category_code, 'name_zh', btrim(name_zh),
                           'name_en', btrim(name_en), 'default_minutes', default_minutes, 'staff', m.code, 'staff_member_id', m.id),
        'order.define_item', 'order'));
END
$$;
COMMENT ON FUNCTION api.define_service_item(text, text, text, text, text, integer) IS
'R15：定义区级（或 district_code 为 NULL 时全市通用的）服务项目，属八大类之一（R14）；须有 define_item 权限，属该区（全市项目：全市职员）。 / R15: defines a district''s service item (or, with district_code NULL, a city-wide one) within one of the eight categories (R14): the power define_item, of that district (a city-wide item: city-level).
参数 / Arguments:
- staff_code: 办理的民政职员代码（bank.staff_member）/ the acting civil-affairs staff member''s code (bank.staff_member)
- district_code: 区代码，NULL 为全市项目 / the district''s code; NULL: city-wide
- category_code: 所属服务类别（bank.service_category）/ its category (bank.service_category)
- name_zh: 中文名称，1 至 100 字，在本区唯一 / its Chinese name, 1 to 100 characters, unique in the district
- name_en: 英文名称，1 至 100 字 / its English name, 1 to 100 characters
- default_minutes: 默认时长，15 至 480 分钟 / its default length, 15 to 480 minutes
返回 / Returns: 请求编号（此职员行为连同职员编号记入 bank.staff_act）；由 order 工作进程执行（order.define_item），结果见 api.request_status / the request''s id (the act recorded with the member''s id in bank.staff_act); the order worker carries it out (order.define_item); its outcome is api.request_status.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- staff_code R15: 无此在职职员，或其无 define_item 权限 / no active staff member has this code, or it lacks the power define_item
- staff_code R15: 职员属其他区：须为 district_code 所在区（全市项目：全市职员）或全市职员 / the member acts for another district: it must be of district_code''s district (a city-wide item: city-level), or city-level
- district_code R15: 无此北京区代码（消息列出有效代码，api.districts）/ no Beijing district has this code (the message lists the valid ones, api.districts)
- category_code R14: 无此服务类别（消息列出有效代码，api.service_categories）/ no such category (the message lists the valid ones, api.service_categories)
- name_zh R15: 不是 1 至 100 字，或本区已有同名项目 / not 1 to 100 characters, or the district already has an item of that name
- name_en R15: 为空或不是 1 至 100 字 / missing, or not 1 to 100 characters
- default_minutes R15: 不在 15 至 480 分钟之间 / not 15 to 480 minutes';

-- R15, R16: a demand for an item of the elder's district or a city-wide
-- one, at a place; its length defaults to the item's. Checks as
-- api.publish_demand, which does the rest.
CREATE OR REPLACE FUNCTION api.publish_item_demand(
    elder_id bigint, item_id bigint, description text, starts_at timestamptz, latitude double precision, longitude double precision,
    minutes bigint DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p bank.person := bank.person_for('elder_id', elder_id);
    i bank.service_item;
    submitted bigint;
BEGIN
    SELECT * INTO i FROM bank.service_item x WHERE x.id = item_id;
    IF i.id IS NULL OR (i.district_code IS NOT NULL AND i.district_code <> p.district_code) THEN
        -- Which items the elder may name: the district's and the city's.
        PERFORM bank.refuse('item_id', 'R15', CASE WHEN item_id IS NULL THEN 'item_id is required'
                                                   WHEN i.id IS NULL THEN 'no service item has id ' || item_id
                                                   ELSE 'a demand names an item of the elder''s district or a city-wide one' END
            || format('; the items of district %s and the city-wide ones are: %s (api.service_items(%L) lists them with their names)',
                      p.district_code,
                      coalesce((SELECT string_agg(x.id::text, ', ' ORDER BY x.id) FROM bank.service_item x
                                 WHERE x.district_code IS NULL OR x.district_code = p.district_code), 'none'),
                      p.district_code));
    END IF;
    IF (latitude IS NULL) <> (longitude IS NULL) OR latitude NOT BETWEEN -90 AND 90 OR longitude NOT BETWEEN -180 AND 180 THEN
        PERFORM bank.refuse('latitude', 'R17', 'a place is a latitude and a longitude');
    END IF;
    submitted := api.publish_demand(elder_id, i.category_code, p.district_code, description, starts_at, coalesce(minutes, i.default_minutes));
    UPDATE bank.request
       SET args = args || jsonb_build_object('item_id', i.id, 'latitude', latitude, 'longitude', longitude)
     WHERE id = submitted;
    RETURN submitted;
END
$$;
COMMENT ON FUNCTION api.publish_item_demand(bigint, bigint, text, timestamptz, double precision, double precision, bigint) IS
'R15、R16、R17：按老人所在区或全市通用的服务项目发布需求，可附地点；时长默认为项目的默认时长。其余检查与 api.publish_demand 相同（类别取自项目，区为老人所在区）。 / R15, R16, R17: publishes a demand for an item of the elder''s district or a city-wide one, optionally at a place; its length defaults to the item''s. The rest is api.publish_demand''s (the category the item''s, the district the elder''s).
参数 / Arguments:
- elder_id: 发布需求的老人 / the elder
- item_id: 服务项目（api.define_service_item）/ the service item (api.define_service_item)
- description: 需求说明，1 至 500 字 / what is needed, 1 to 500 characters
- starts_at: 开始时间，须在未来、为整分钟 / when it starts: in the future, on a whole minute
- latitude: 地点纬度（与 longitude 同为 NULL：无地点）/ the place''s latitude (NULL with longitude: no place)
- longitude: 地点经度 / the place''s longitude
- minutes: 时长（NULL：项目的默认时长）/ how long (NULL: the item''s default)
返回 / Returns: 请求编号；由 settlement 工作进程执行（settlement.hold），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the settlement worker carries it out (settlement.hold), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- elder_id R3: 无此人 / no person is registered with this id
- item_id R15: 为空、无此服务项目，或项目属其他区（消息列出可用项目的编号）/ missing, no item has this id, or it is another district''s (the message lists the ids of those the elder may name)
- latitude R17: 只给了纬度或经度之一，或超出范围 / only one of latitude and longitude, or out of range
- 以及 api.publish_demand 的各项拒绝 / and every refusal of api.publish_demand';

-- R17: published services near a volunteer, nearest first: within
-- `within_km` of the given point (services without a place count as
-- near when they are in the volunteer's own district), optionally of one
-- category and starting in a time window; never one that overlaps the
-- volunteer's own bookings (R20). No elder's id, name or exact place.
CREATE OR REPLACE FUNCTION api.find_services(
    volunteer_id bigint, latitude double precision, longitude double precision, within_km double precision DEFAULT 5,
    category text DEFAULT NULL, starts_after timestamptz DEFAULT NULL, starts_before timestamptz DEFAULT NULL,
    max_results integer DEFAULT 20
) RETURNS TABLE (service_id bigint, category_code text, category_zh text, item_zh text, district_code text,
                 starts_at timestamptz, minutes integer, distance_km numeric, description text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    home text;
    -- A degree of latitude is ~111 km: the box that holds the circle.
    dlat double precision := within_km / 111.0;
    dlon double precision := within_km / (111.0 * greatest(cos(radians(latitude)), 0.01));
BEGIN
    PERFORM bank.person_for('volunteer_id', volunteer_id);
    SELECT p.district_code INTO home FROM bank.person p JOIN bank.volunteer v ON v.person_id = p.id WHERE p.id = volunteer_id;
    IF home IS NULL THEN
        PERFORM bank.refuse('volunteer_id', 'R17', 'only an approved volunteer looks for services');
    END IF;
    IF latitude IS NULL OR longitude IS NULL OR latitude NOT BETWEEN -90 AND 90 OR longitude NOT BETWEEN -180 AND 180 THEN
        PERFORM bank.refuse('latitude', 'R17', 'a search starts from a latitude and a longitude');
    END IF;
    IF within_km IS NULL OR within_km <= 0 OR within_km > 100 THEN
        PERFORM bank.refuse('within_km', 'R17', 'a search radius is more than 0 and at most 100 km');
    END IF;
    IF category IS NOT NULL THEN
        PERFORM bank.check_service_category('category', 'R14', category);
    END IF;
    RETURN QUERY
    SELECT s.id, s.category_code, c.name_zh, i.name_zh, s.district_code, s.starts_at, s.booked_minutes,
           round(bank.distance_km(find_services.latitude, find_services.longitude, s.latitude, s.longitude)::numeric, 1),
           s.description
      FROM bank.service s
      JOIN bank.service_category c ON c.code = s.category_code
      LEFT JOIN bank.service_item i ON i.id = s.item_id
     WHERE s.status = 'published' AND s.starts_at > (SELECT bank.clock_now())  -- once per search, not per row
       AND (category IS NULL OR s.category_code = category)
       AND (starts_after IS NULL OR s.starts_at >= starts_after)
       AND (starts_before IS NULL OR s.starts_at < starts_before)
       AND ((s.latitude BETWEEN find_services.latitude - dlat AND find_services.latitude + dlat
             AND s.longitude BETWEEN find_services.longitude - dlon AND find_services.longitude + dlon
             AND bank.distance_km(find_services.latitude, find_services.longitude, s.latitude, s.longitude) <= within_km)
            OR (s.latitude IS NULL AND s.district_code = home))
       AND s.elder_id <> find_services.volunteer_id
       AND NOT EXISTS (SELECT 1 FROM bank.service o
                        WHERE o.volunteer_id = find_services.volunteer_id AND o.status IN ('booked', 'in_progress', 'checked_out')
                          AND tstzrange(o.starts_at, o.ends_at) && tstzrange(s.starts_at, s.ends_at))
     ORDER BY 8 NULLS LAST, s.starts_at
     LIMIT greatest(1, least(coalesce(max_results, 20), 100));
END
$$;
COMMENT ON FUNCTION api.find_services(bigint, double precision, double precision, double precision, text, timestamptz, timestamptz, integer) IS
'R17：志愿者附近已发布的服务，由近及远：在给定地点 within_km 公里内（无地点的服务，在志愿者本区内即算附近），可按类别和开始时间筛选；不含志愿者自己的需求和与其预约时间重叠的服务（R20）。不返回老人的编号、姓名或确切地点。 / R17: published services near a volunteer, nearest first: within within_km of the given point (a service without a place counts as near when it is in the volunteer''s own district), optionally of one category and starting in a time window; never the volunteer''s own demands nor one that overlaps the volunteer''s bookings (R20). No elder''s id, name or exact place.
参数 / Arguments:
- volunteer_id: 查找的志愿者 / the volunteer looking
- latitude: 起点纬度 / the point''s latitude
- longitude: 起点经度 / the point''s longitude
- within_km: 半径（公里），大于 0、至多 100，默认 5 / the radius in km, more than 0 and at most 100 (default 5)
- category: 服务类别代码（NULL：全部）/ a category''s code (NULL: any)
- starts_after: 不早于此时开始（可为 NULL）/ starting at or after this (optional)
- starts_before: 早于此时开始（可为 NULL）/ starting before this (optional)
- max_results: 至多返回几行，1 至 100，默认 20 / at most this many rows, held to 1 to 100 (default 20)
返回 / Returns: 每项服务一行：service_id、category_code、category_zh、item_zh、district_code、starts_at、minutes、distance_km（一位小数；无地点为 NULL，排在最后）、description / one row per service: service_id, category_code, category_zh, item_zh, district_code, starts_at, minutes, distance_km (one decimal; NULL, and last, without a place), description.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- volunteer_id R3: 为空或无此人 / missing, or no person is registered with this id
- volunteer_id R17: 不是志愿者 / not an approved volunteer
- latitude R17: 经纬度缺失或超出范围 / latitude or longitude missing or out of range
- within_km R17: 半径不在 0（不含）至 100 公里之间 / the radius is not more than 0 and at most 100 km
- category R14: 无此服务类别（消息列出有效代码，api.service_categories）/ no such category (the message lists the valid ones, api.service_categories)';

-- R2: a minor joins the service the verified guardian booked.
CREATE OR REPLACE FUNCTION api.join_as_minor(service_id bigint, minor_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s bank.service := bank.service_for(service_id);
BEGIN
    PERFORM bank.person_for('minor_id', minor_id);
    IF NOT EXISTS (SELECT 1 FROM bank.volunteer v WHERE v.person_id = minor_id) THEN
        PERFORM bank.refuse('minor_id', 'R2', 'only a minor approved as a volunteer joins a service');
    END IF;
    -- (bank.submit would say so too, but of the request's volunteer_id:
    -- the client's field is minor_id.)
    IF NOT bank.person_active(minor_id) THEN
        PERFORM bank.refuse('minor_id', 'R3', 'the person''s account is suspended or closed');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bank.guardianship g WHERE g.minor_id = join_as_minor.minor_id
                      AND g.guardian_id = s.volunteer_id AND g.verified_at IS NOT NULL)
       OR s.status <> 'booked' THEN
        PERFORM bank.refuse('service_id', 'R2', 'a minor joins only a service his or her verified guardian booked');
    END IF;
    RETURN bank.submit('join_as_minor', jsonb_build_object('service_id', service_id, 'volunteer_id', minor_id),
        'order.join_as_minor', 'order');
END
$$;
COMMENT ON FUNCTION api.join_as_minor(bigint, bigint) IS
'R2：未成年志愿者加入其已核实的监护人预约的服务。 / R2: a minor who is a volunteer joins the service his or her verified guardian booked.
参数 / Arguments:
- service_id: 监护人预约的服务 / the service the guardian booked
- minor_id: 未成年志愿者 / the minor
返回 / Returns: 请求编号；由 order 工作进程执行（order.join_as_minor），结果（completed，或 refused 并注明规则）见 api.request_status、api.watch_request / the request''s id; the order worker carries it out (order.join_as_minor), and its outcome (completed, or refused naming the rule) is api.request_status or api.watch_request.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- service_id R16: 无此服务 / no service has this id
- minor_id R2: 不是志愿者 / not approved as a volunteer
- service_id R2: 服务不是此未成年人已核实的监护人预约的，或不在已预约状态 / not booked, or not by the minor''s verified guardian
- minor_id R3: 为空、无此人，或未成年人的账户已暂停或注销 / missing, no person is registered with this id, or the minor''s account is suspended or closed
- agent R5: 以代理机构身份（api.act_as_agent）办理时：机构已撤销、职员不在职，或此人不是在该机构登记的人 / acting as an agent (api.act_as_agent): the institution is withdrawn, its staff member inactive, or the person not registered with it';
