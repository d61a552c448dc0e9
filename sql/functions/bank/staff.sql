-- bank: civil-affairs staff (issue 15, finding 9). Every staff act of the
-- api (sql/functions/api/*.sql; timebank_staff executes them, the
-- residents' timebank_api does not) names the acting member by its code, as
-- its first argument, and:
--   1. bank.acting_staff: the member exists, is active and holds the power
--      the act needs (a city-level power needs a city-level member);
--   2. bank.check_staff_district: once the act's subject is known, the
--      subject's district is the member's (or the member is city-level);
--   3. bank.record_staff_act: the act is recorded with the member's id
--      (bank.staff_act), beside staff_member_id in the request's args.
-- Each refusal names the field staff_code and the act's rule.
--
-- Why an argument and not a session setting (as api.act_as_agent is for
-- agents): the desk's back end serves many members over pooled
-- connections; a setting left on a session by one member's request would
-- act for the next one's, and a setting can be changed with a plain SET by
-- whoever holds the session. An argument names the member on every call,
-- and the call's transaction checks and records exactly that member.

-- The active member `staff_code` names, holding `power`; else a refusal
-- under `rule`. set_budget (R9) and import_registry (R24) are city-level.
CREATE OR REPLACE FUNCTION bank.acting_staff(staff_code text, power text, rule text) RETURNS bank.staff_member
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    m bank.staff_member;
BEGIN
    SELECT * INTO m FROM bank.staff_member s WHERE s.code = staff_code AND s.active;
    IF m.id IS NULL THEN
        PERFORM bank.refuse('staff_code', rule, 'no active staff member has code ' || coalesce(left(staff_code, 40), 'NULL'));
    END IF;
    IF NOT power = ANY (m.powers) THEN
        PERFORM bank.refuse('staff_code', rule, format('staff member %s does not hold the power %s', m.code, power));
    END IF;
    IF power IN ('set_budget', 'import_registry') AND m.district_code IS NOT NULL THEN
        PERFORM bank.refuse('staff_code', rule, format('%s is a city-level act; staff member %s acts for district %s', power, m.code, m.district_code));
    END IF;
    RETURN m;
END
$$;

-- A district member acts only on what concerns its district: `districts`
-- are the act's (the elder's, person's, service's or institution's; both
-- people's for a relationship, every person's for an alert: a member of
-- any of them may act). NULL or empty: a city-level act (a city-wide item).
CREATE OR REPLACE FUNCTION bank.check_staff_district(member bank.staff_member, rule text, districts text[]) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF member.district_code IS NOT NULL AND NOT coalesce(member.district_code = ANY (districts), false) THEN
        PERFORM bank.refuse('staff_code', rule,
            CASE WHEN coalesce(cardinality(districts), 0) = 0
                 THEN format('this is a city-level act; staff member %s acts for district %s', member.code, member.district_code)
                 ELSE format('staff member %s acts for district %s, not %s', member.code, member.district_code, array_to_string(districts, ', '))
            END);
    END IF;
END
$$;

-- Records an act the api accepted: the member's id, the power, the request
-- it submitted (or, for a dismissal, the alert). Returns the request's id.
CREATE OR REPLACE FUNCTION bank.record_staff_act(member bank.staff_member, power text, request bigint, alert bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bank.staff_act (staff_member_id, power, request_id, alert_id) VALUES (member.id, power, request, alert);
    RETURN request;
END
$$;
