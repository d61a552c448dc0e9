-- bank: helpers every step uses: settings, Beijing's date and clock,
-- refusals that name the rule, distances.

CREATE OR REPLACE FUNCTION bank.setting(setting_name text) RETURNS integer
LANGUAGE sql STABLE
RETURN (SELECT value FROM bank.setting WHERE name = setting_name);

-- Today, as Beijing counts days, on the bank's clock (sql/functions/bank/clock.sql).
CREATE OR REPLACE FUNCTION bank.local_today() RETURNS date
LANGUAGE sql STABLE
RETURN (bank.clock_now() AT TIME ZONE 'Asia/Shanghai')::date;

-- A refusal: the rule, what is wrong, and the field, as the client sees it.
CREATE OR REPLACE FUNCTION bank.refuse(field text, rule text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: %', rule, message
        USING ERRCODE = 'invalid_parameter_value', COLUMN = field, DETAIL = 'field: ' || field;
END
$$;

-- Great-circle distance in kilometres (haversine).
CREATE OR REPLACE FUNCTION bank.distance_km(lat1 double precision, lon1 double precision, lat2 double precision, lon2 double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 6371.0 * 2 * asin(sqrt(power(sin(radians(lat2 - lat1) / 2), 2)
                              + cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lon2 - lon1) / 2), 2)));

-- A time as the people of Beijing read it.
CREATE OR REPLACE FUNCTION bank.local_time_text(at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN to_char(at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI');
