-- 0024: staff are a role of their own (issue 15, finding 9). The acts of
-- civil-affairs staff (R9 budgets and grants, R10 welfare grants, R16
-- reviews, R8 and R2 verifications, R3 statuses, R25 insurance, R5
-- institutions, R15 items, R24 the registry import, R19 disputes, R21
-- alerts, R22 fraud) went through timebank_api, the residents' client
-- role, with the staff member's name as free text. Now:
--
--   timebank_staff      the civil-affairs desk's back end: executes the
--                       staff acts (sql/privileges/functions.sql), and
--                       timebank_api no longer does;
--   bank.staff_member   who may act: a code, a district (none: the city),
--                       a checked set of powers, active or not;
--   bank.staff_act      every act, recorded with the member's id.
--
-- Each staff act now takes the acting member's code as its first argument
-- (sql/functions/api/*.sql), so the old forms are dropped here and the
-- definitions re-create the new ones right after the migrations. On a
-- fresh database they do not exist yet: IF EXISTS. No CASCADE: nothing
-- depends on them.

-- Roles are cluster-wide: creation tolerates an existing role (as in 0001).
DO $roles$
BEGIN
    CREATE ROLE timebank_staff NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created by another database's migration: fine
END
$roles$;

GRANT USAGE ON SCHEMA api TO timebank_staff;

-- Who may act as staff. Kept for good once added (deactivated, never
-- deleted: bank.staff_act refers to it), so that a code names one member
-- forever. Only what a check needs: no national ID, no phone.
CREATE TABLE bank.staff_member (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- What the desk sends with each act (its login's or badge's code), and
    -- what the rows workers write name (reviewed_by, verified_by, decided_by...).
    code           text NOT NULL
                   CONSTRAINT staff_member_code_unique UNIQUE
                   CONSTRAINT staff_member_code_form CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$'),
    -- How the desk shows the member ("Chaoyang desk 3"); optional: the code
    -- is enough for every check and record.
    display_name   text CONSTRAINT staff_member_display_name_length CHECK (length(btrim(display_name)) BETWEEN 1 AND 100),
    -- The district whose elders, people, services and institutions the
    -- member acts on; NULL: the city (any district, and the city-level acts).
    district_code  text REFERENCES bank.district,
    -- What the member may do, each an act of the api (timebank staff --help).
    powers         text[] NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    deactivated_at timestamptz,
    -- A member holds only powers the api knows (a new one is a new
    -- migration), at least one, none NULL (timebank staff add stores each once).
    CONSTRAINT staff_member_powers_known CHECK (
        cardinality(powers) >= 1 AND array_position(powers, NULL) IS NULL
        AND powers <@ ARRAY['set_budget', 'grant', 'review', 'verify', 'set_status', 'confirm_insurance', 'register_institution',
                            'define_item', 'import_registry', 'decide_dispute', 'dismiss_alert', 'confirm_fraud']),
    -- R9: a district's budget is set by the city; R24: the registry is the
    -- city's. A district member cannot hold those powers at all.
    CONSTRAINT staff_member_city_powers_city_level CHECK (
        district_code IS NULL OR NOT powers && ARRAY['set_budget', 'import_registry']),
    -- Deactivation is dated, and final for this row (a returning member gets a new code).
    CONSTRAINT staff_member_deactivation_dated CHECK (active = (deactivated_at IS NULL))
);
COMMENT ON TABLE bank.staff_member IS 'Civil-affairs staff who act through timebank_staff: code, district (NULL: city level), powers, active. 民政工作人员';
COMMENT ON COLUMN bank.staff_member.code IS 'The code the desk sends with every act; unique, never reused. 工作人员编号';
COMMENT ON COLUMN bank.staff_member.display_name IS 'How the desk shows the member (optional). 显示名称';
COMMENT ON COLUMN bank.staff_member.district_code IS 'The district the member acts on; NULL: the whole city. 所属区';
COMMENT ON COLUMN bank.staff_member.powers IS 'What the member may do: set_budget, grant, review, verify, set_status, confirm_insurance, register_institution, define_item, import_registry, decide_dispute, dismiss_alert, confirm_fraud. 权限';
COMMENT ON COLUMN bank.staff_member.active IS 'Whether the member may act now; deactivated members stay for the record. 是否在职';

-- Every staff act, by whom: what the api accepted (a request it submitted,
-- or an alert it dismissed itself). Written by the api functions only.
CREATE TABLE bank.staff_act (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staff_member_id bigint NOT NULL REFERENCES bank.staff_member,
    -- The power the act used (one of bank.staff_member.powers).
    power           text NOT NULL,
    -- The request it submitted (its args name the member too: staff_member_id).
    request_id      bigint REFERENCES bank.request,
    -- R21: a dismissal is no request; the alert it decided.
    alert_id        bigint REFERENCES bank.alert,
    at              timestamptz NOT NULL DEFAULT now(),
    -- An act is either a request or a dismissal, never neither.
    CONSTRAINT staff_act_names_what CHECK ((request_id IS NULL) <> (alert_id IS NULL))
);
COMMENT ON TABLE bank.staff_act IS 'Every act of a staff member: who (its id), with which power, the request or alert. 工作人员操作记录';
CREATE INDEX staff_act_member_idx ON bank.staff_act (staff_member_id, at);

-- The staff acts' old forms (a free-text name, or no actor at all).
DROP FUNCTION IF EXISTS api.set_district_budget(text, date, date, bigint);
DROP FUNCTION IF EXISTS api.grant_coins(text, bigint, text, bigint);
DROP FUNCTION IF EXISTS api.grant_from_welfare(bigint, text, bigint, text);
DROP FUNCTION IF EXISTS api.review_demand(bigint, text, boolean, text);
DROP FUNCTION IF EXISTS api.verify_relative(bigint, text, text);
DROP FUNCTION IF EXISTS api.verify_guardian(bigint, text, text);
DROP FUNCTION IF EXISTS api.set_person_status(bigint, text, text, text);
DROP FUNCTION IF EXISTS api.confirm_insurance(bigint, text, text, date, date, text);
DROP FUNCTION IF EXISTS api.register_agent_institution(text, text, text, text, jsonb);
DROP FUNCTION IF EXISTS api.define_service_item(text, text, text, text, integer);
DROP FUNCTION IF EXISTS api.import_volunteer_beijing();
DROP FUNCTION IF EXISTS api.decide_report(bigint, text, boolean, text);
DROP FUNCTION IF EXISTS api.dismiss_alert(bigint, text, text);
DROP FUNCTION IF EXISTS api.confirm_fraud(bigint, text, text, bigint, bigint[]);
