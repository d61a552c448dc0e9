-- api: supervision (R21-R22): a supervisor (a staff member: timebank_staff,
-- sql/functions/bank/staff.sql) dismisses an alert or confirms fraud.

-- R21: a supervisor dismisses an alert, saying why: a member of the district
-- of one of the alert's people (or of the city) with the power dismiss_alert.
CREATE OR REPLACE FUNCTION api.dismiss_alert(staff_code text, alert_id bigint, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'dismiss_alert', 'R21');
    people bigint[];
BEGIN
    SELECT a.people INTO people FROM bank.alert a WHERE a.id = alert_id AND a.status = 'open' FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM bank.refuse('alert_id', 'R21', 'no open alert has this id');
    END IF;
    PERFORM bank.check_staff_district(m, 'R21', ARRAY(SELECT p.district_code FROM bank.person p WHERE p.id = ANY (people)));
    IF reason IS NULL OR length(btrim(reason)) = 0 THEN
        PERFORM bank.refuse('reason', 'R21', 'a dismissal gives the reason');
    END IF;
    UPDATE bank.alert a SET status = 'dismissed', decided_at = now(), decided_by = m.code, decision_reason = btrim(reason),
                            updated_at = now()
     WHERE a.id = alert_id;
    PERFORM bank.record_staff_act(m, 'dismiss_alert', NULL, alert_id);
END
$$;
COMMENT ON FUNCTION api.dismiss_alert(text, bigint, text) IS
'R21：监督人员驳回一条预警并说明原因；须有 dismiss_alert 权限，属预警所涉任一人所在区或全市。立即生效，不经工作进程。 / R21: a supervisor dismisses an alert, saying why: the power dismiss_alert, of the district of one of the alert''s people or city-level. Takes effect at once, without a worker.
参数 / Arguments:
- staff_code: 办理的民政职员代码（bank.staff_member）/ the acting civil-affairs staff member''s code (bank.staff_member)
- alert_id: 未处理的预警（bank.alert）/ the open alert (bank.alert)
- reason: 驳回原因 / why it is dismissed
返回 / Returns: 无（void）；此行为记入 bank.staff_act / nothing (void); the act is recorded in bank.staff_act.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- staff_code R21: 无此在职职员，或其无 dismiss_alert 权限 / no active staff member has this code, or it lacks the power dismiss_alert
- staff_code R21: 职员属其他区：须为预警所涉任一人所在区或全市职员 / the member acts for another district: it must be of the district of one of the alert''s people, or city-level
- alert_id R21: 无此未处理预警 / no open alert has this id
- reason R21: 未写明原因 / no reason given';

-- R22: a supervisor confirms fraud: the person goes on the dishonest list;
-- the coins of `services` (the person's services found fraudulent) are
-- taken back. Carried out by the settlement worker (the ledger's writer).
-- A member of the person's district (or of the city) with the power confirm_fraud.
CREATE OR REPLACE FUNCTION api.confirm_fraud(staff_code text, person_id bigint, reason text, alert_id bigint DEFAULT NULL,
                                  services bigint[] DEFAULT '{}') RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    m bank.staff_member := bank.acting_staff(staff_code, 'confirm_fraud', 'R22');
    p bank.person := bank.person_for('person_id', person_id);
BEGIN
    PERFORM bank.check_staff_district(m, 'R22', ARRAY[p.district_code]);
    IF reason IS NULL OR length(btrim(reason)) = 0 THEN
        PERFORM bank.refuse('reason', 'R22', 'a confirmation of fraud gives the reason');
    END IF;
    IF EXISTS (SELECT 1 FROM bank.dishonest_person d WHERE d.person_id = person_id) THEN
        PERFORM bank.refuse('person_id', 'R22', 'the person is on the dishonest list already');
    END IF;
    IF alert_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM bank.alert a WHERE a.id = alert_id AND a.status = 'open' AND person_id = ANY (a.people)) THEN
        PERFORM bank.refuse('alert_id', 'R22', 'no open alert with this id involves the person');
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(coalesce(services, '{}')) x(id)
                WHERE NOT EXISTS (SELECT 1 FROM bank.service s WHERE s.id = x.id AND s.volunteer_id = person_id
                                     AND s.status = 'checked_out' AND s.settled_at IS NOT NULL)) THEN
        PERFORM bank.refuse('services', 'R22', 'the services found fraudulent are settled services the person served');
    END IF;
    RETURN bank.record_staff_act(m, 'confirm_fraud', bank.submit('confirm_fraud',
        jsonb_build_object('person_id', person_id, 'supervisor', m.code, 'staff_member_id', m.id, 'reason', btrim(reason),
                           'alert_id', alert_id, 'services', to_jsonb(coalesce(services, '{}'))),
        'settlement.confirm_fraud', 'settlement'));
END
$$;
COMMENT ON FUNCTION api.confirm_fraud(text, bigint, text, bigint, bigint[]) IS
'R22：监督人员确认欺诈：此人列入失信名单，账户被暂停，services 所列服务的时间币被收回，所涉预警被确认。须有 confirm_fraud 权限，属此人所在区或全市。 / R22: a supervisor confirms fraud: the person goes on the dishonest list, the account is suspended, the coins of the services listed are taken back, and the alert is confirmed. The power confirm_fraud, of the person''s district or city-level.
参数 / Arguments:
- staff_code: 办理的民政职员代码（bank.staff_member）/ the acting civil-affairs staff member''s code (bank.staff_member)
- person_id: 欺诈者 / the person found to have cheated
- reason: 确认原因 / why
- alert_id: 所涉的未处理预警（可为 NULL）/ the open alert that concerns the person (optional)
- services: 此人作为志愿者、已结算的欺诈服务编号（默认为空）/ the settled services the person served that were fraudulent (default none)
返回 / Returns: 请求编号（此职员行为连同职员编号记入 bank.staff_act）；由 settlement 工作进程执行（settlement.confirm_fraud），结果见 api.request_status / the request''s id (the act recorded with the member''s id in bank.staff_act); the settlement worker carries it out (settlement.confirm_fraud); its outcome is api.request_status.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- staff_code R22: 无此在职职员，或其无 confirm_fraud 权限 / no active staff member has this code, or it lacks the power confirm_fraud
- staff_code R22: 职员属其他区：须为此人所在区或全市职员 / the member acts for another district: it must be of the person''s district, or city-level
- person_id R3: 无此人 / no person is registered with this id
- reason R22: 未写明原因 / no reason given
- person_id R22: 已在失信名单上 / already on the dishonest list
- alert_id R22: 无涉及此人的此未处理预警 / no open alert with this id involves the person
- services R22: 有服务不是此人作为志愿者、已结算的服务 / a service listed is not a settled service the person served
已暂停或注销的账户也可确认（失信名单记的是人：确认前常先暂停）；确认时只暂停在册（active）的账户，已注销的保持注销 / A suspended or closed account may be confirmed too (the dishonest list is of people, and supervisors often suspend first): the confirmation suspends an active account, and a closed one stays closed.';
