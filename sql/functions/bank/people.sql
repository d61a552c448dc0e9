-- bank: facts about people: national IDs (R3), ages (R1, R2), whether a
-- person is active, may serve as a minor (R2), is insured on a day
-- (R24-R25), and verified relatives (R8).

-- R3: a national ID (GB 11643-1999): six digits of region, eight of birth
-- date, three of sequence (odd for men), and a check character computed
-- from the other seventeen (ISO 7064 MOD 11-2). Returns what is wrong with
-- it, or NULL when it is valid.
CREATE OR REPLACE FUNCTION bank.national_id_problem(national_id text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    weights constant int[] := '{7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2}';
    total int := 0;
BEGIN
    IF national_id IS NULL THEN
        RETURN 'is missing';
    END IF;
    IF national_id !~ '^[0-9]{17}[0-9X]$' THEN
        RETURN 'must be 17 digits followed by a check digit or X';
    END IF;
    BEGIN
        PERFORM make_date(substr(national_id, 7, 4)::int, substr(national_id, 11, 2)::int, substr(national_id, 13, 2)::int);
    EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format OR data_exception THEN
        RETURN 'does not hold a valid birth date';
    END;
    FOR i IN 1..17 LOOP
        total := total + substr(national_id, i, 1)::int * weights[i];
    END LOOP;
    IF substr('10X98765432', total % 11 + 1, 1) <> substr(national_id, 18, 1) THEN
        RETURN 'has a wrong check digit';
    END IF;
    RETURN NULL;
END
$$;

-- The birth date a valid national ID holds.
CREATE OR REPLACE FUNCTION bank.national_id_birth_date(national_id text) RETURNS date
LANGUAGE sql IMMUTABLE
RETURN make_date(substr(national_id, 7, 4)::int, substr(national_id, 11, 2)::int, substr(national_id, 13, 2)::int);

-- Age in whole years on a given day.
CREATE OR REPLACE FUNCTION bank.age(birth_date date, on_day date) RETURNS integer
LANGUAGE sql IMMUTABLE
RETURN extract(year FROM age(on_day, birth_date))::integer;

-- Whether a person may act now (book, check in, publish, give).
CREATE OR REPLACE FUNCTION bank.person_active(person bigint) RETURNS boolean
LANGUAGE sql STABLE
RETURN coalesce((SELECT p.status = 'active' FROM bank.person p WHERE p.id = person), false);

-- R2: whether a minor may serve now: a verified guardian who is an active volunteer.
CREATE OR REPLACE FUNCTION bank.minor_may_serve(minor bigint) RETURNS boolean
LANGUAGE sql STABLE
RETURN EXISTS (SELECT 1 FROM bank.guardianship g
                 JOIN bank.volunteer v ON v.person_id = g.guardian_id
                 JOIN bank.person p ON p.id = g.guardian_id
                WHERE g.minor_id = minor AND g.verified_at IS NOT NULL AND p.status = 'active');

-- Whether two people are verified lineal relatives, either way round.
CREATE OR REPLACE FUNCTION bank.verified_relatives(a bigint, b bigint) RETURNS boolean
LANGUAGE sql STABLE
RETURN EXISTS (SELECT 1 FROM bank.relationship r
                WHERE r.verified_at IS NOT NULL
                  AND ((r.person_id = a AND r.relative_id = b) OR (r.person_id = b AND r.relative_id = a)));

-- R24, R25: how a person was insured on a day: 'volunteer_beijing',
-- 'policy <organisation> <number>', or NULL (not insured). The
-- insurance-claim worker asks this of the day of an accident.
CREATE OR REPLACE FUNCTION bank.insured_on(person bigint, day date) RETURNS text
LANGUAGE sql STABLE
RETURN coalesce(
    (SELECT 'volunteer_beijing' FROM bank.volunteer_beijing_registration r WHERE r.person_id = person AND r.approved_on <= day),
    (SELECT 'policy ' || p.organisation || ' ' || p.policy_number FROM bank.insurance_policy p
      WHERE p.person_id = person AND p.coverage @> day ORDER BY p.confirmed_at DESC LIMIT 1));
