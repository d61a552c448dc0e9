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
