-- bank: the valid codes a refusal lists (issue 19, item 2), so that a
-- client told "no category is called x" also reads which are. The same
-- lists are the api's to read (sql/functions/api/codes.sql).

-- The codes of one list, comma-separated, in the order the api lists them.
CREATE OR REPLACE FUNCTION bank.valid_codes(list text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE list
        WHEN 'service_category' THEN (SELECT string_agg(c.code, ', ' ORDER BY c.code) FROM bank.service_category c)
        WHEN 'special_elder_category' THEN (SELECT string_agg(c.code, ', ' ORDER BY c.code) FROM bank.special_elder_category c)
        WHEN 'relation_kind' THEN (SELECT string_agg(k.code, ', ' ORDER BY k.code) FROM bank.relation_kind k)
        WHEN 'district' THEN (SELECT string_agg(d.code || ' ' || d.name_en, ', ' ORDER BY d.code) FROM bank.district d)
    END
$$;

-- A refusal of a code that is not on its list: names the code given
-- (cut short: it is the client's input), every valid one, and the api
-- function that lists them with their names.
CREATE OR REPLACE FUNCTION bank.refuse_code(field text, rule text, what text, given text, list text, lister text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM bank.refuse(field, rule, CASE WHEN given IS NULL THEN format('a %s''s code is required', what)
                                          ELSE format('no %s has the code %s', what, quote_literal(left(given, 40))) END
        || format('; the valid codes are: %s (%s lists them with their names)', bank.valid_codes(list), lister));
END
$$;

-- The district a code names, or a refusal listing Beijing's districts.
CREATE OR REPLACE FUNCTION bank.check_district(field text, rule text, code text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF code IS NULL OR NOT EXISTS (SELECT 1 FROM bank.district d WHERE d.code = check_district.code) THEN
        PERFORM bank.refuse_code(field, rule, 'Beijing district', code, 'district', 'api.districts');
    END IF;
END
$$;

-- A service category (R14), or a refusal listing the eight.
CREATE OR REPLACE FUNCTION bank.check_service_category(field text, rule text, code text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF code IS NULL OR NOT EXISTS (SELECT 1 FROM bank.service_category c WHERE c.code = check_service_category.code) THEN
        PERFORM bank.refuse_code(field, rule, 'service category', code, 'service_category', 'api.service_categories');
    END IF;
END
$$;

-- A category of special elder (R9, R10), or a refusal listing them.
CREATE OR REPLACE FUNCTION bank.check_special_elder_category(field text, rule text, code text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF code IS NULL OR NOT EXISTS (SELECT 1 FROM bank.special_elder_category c WHERE c.code = check_special_elder_category.code) THEN
        PERFORM bank.refuse_code(field, rule, 'category of special elder', code, 'special_elder_category',
                                 'api.special_elder_categories');
    END IF;
END
$$;
