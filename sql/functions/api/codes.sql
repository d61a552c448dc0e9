-- api: the valid codes (issue 19, item 2): what a client may pass as a
-- service category (R14), a category of special elder (R9), a relation
-- (R8), a district (R15) and a service item (R15), each with its Chinese
-- and English name. Every refusal of such a code lists the valid ones too
-- (bank.refuse_code).

CREATE OR REPLACE FUNCTION api.service_categories() RETURNS TABLE (code text, name_zh text, name_en text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.code, c.name_zh, c.name_en FROM bank.service_category c ORDER BY c.code
$$;
COMMENT ON FUNCTION api.service_categories() IS
'R14：八类服务的代码及中英文名称（api.publish_demand 的 category_code、api.find_services 的 category）。 / R14: the eight service categories'' codes with their Chinese and English names (category_code of api.publish_demand, category of api.find_services).
参数 / Arguments: 无 / none.
返回 / Returns: 每类一行（按代码）：code、name_zh、name_en / one row per category, by code: code, name_zh, name_en.
拒绝 / Refusals: 无 / none.';

CREATE OR REPLACE FUNCTION api.special_elder_categories() RETURNS TABLE (code text, name_zh text, name_en text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.code, c.name_zh, c.name_en FROM bank.special_elder_category c ORDER BY c.code
$$;
COMMENT ON FUNCTION api.special_elder_categories() IS
'R9、R10：特殊老人类别的代码及中英文名称（api.grant_coins、api.grant_from_welfare 的 category）。 / R9, R10: the categories of special elder, codes with their Chinese and English names (category of api.grant_coins and api.grant_from_welfare).
参数 / Arguments: 无 / none.
返回 / Returns: 每类一行（按代码）：code、name_zh、name_en / one row per category, by code: code, name_zh, name_en.
拒绝 / Refusals: 无 / none.';

CREATE OR REPLACE FUNCTION api.relation_kinds() RETURNS TABLE (code text, name_zh text, name_en text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT k.code, k.name_zh, k.name_en FROM bank.relation_kind k ORDER BY k.code
$$;
COMMENT ON FUNCTION api.relation_kinds() IS
'R8：可申报的直系亲属关系（亲属对申报人的关系）的代码及中英文名称（api.declare_relative 的 relation）。 / R8: the lineal relations one may declare (what the relative is to the person), codes with their Chinese and English names (relation of api.declare_relative).
参数 / Arguments: 无 / none.
返回 / Returns: 每种关系一行（按代码）：code、name_zh、name_en / one row per relation, by code: code, name_zh, name_en.
拒绝 / Refusals: 无 / none.';

CREATE OR REPLACE FUNCTION api.districts() RETURNS TABLE (code text, name_zh text, name_en text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT d.code, d.name_zh, d.name_en FROM bank.district d ORDER BY d.code
$$;
COMMENT ON FUNCTION api.districts() IS
'R15：北京各区的行政区划代码及中英文名称（各 api 函数的 district_code）。 / R15: Beijing''s districts, their administrative division codes with Chinese and English names (district_code throughout the api).
参数 / Arguments: 无 / none.
返回 / Returns: 每区一行（按代码）：code、name_zh、name_en / one row per district, by code: code, name_zh, name_en.
拒绝 / Refusals: 无 / none.';

-- R15: the items a demand may name. For a district: its own and the
-- city-wide ones (what api.publish_item_demand accepts of an elder there).
CREATE OR REPLACE FUNCTION api.service_items(district text DEFAULT NULL)
RETURNS TABLE (item_id bigint, district_code text, category_code text, name_zh text, name_en text, default_minutes integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF district IS NOT NULL THEN
        PERFORM bank.check_district('district', 'R15', district);
    END IF;
    RETURN QUERY
    SELECT i.id, i.district_code, i.category_code, i.name_zh, i.name_en, i.default_minutes
      FROM bank.service_item i
     WHERE service_items.district IS NULL OR i.district_code IS NULL OR i.district_code = service_items.district
     ORDER BY i.district_code NULLS FIRST, i.category_code, i.id;
END
$$;
COMMENT ON FUNCTION api.service_items(text) IS
'R15：服务项目（api.define_service_item 定义）及其中英文名称；给出区代码时为该区的项目和全市通用的项目，即该区老人可在 api.publish_item_demand 中使用的项目。 / R15: the service items (defined by api.define_service_item) with their Chinese and English names; for a district, its items and the city-wide ones: those an elder of the district may name in api.publish_item_demand.
参数 / Arguments:
- district: 区代码（NULL：全部项目）/ a district''s code (NULL: every item)
返回 / Returns: 每个项目一行（全市项目在前，再按区、类别）：item_id、district_code（NULL 为全市通用）、category_code、name_zh、name_en（较早定义、未给英文名称的项目为 NULL）、default_minutes / one row per item (city-wide first, then by district and category): item_id, district_code (NULL: city-wide), category_code, name_zh, name_en (NULL for an item defined, earlier, without one), default_minutes.
拒绝（SQLSTATE 22023 invalid_parameter_value；消息以规则开头，DETAIL 为 field: 字段）/ Refusals (SQLSTATE 22023 invalid_parameter_value; the message starts with the rule, the DETAIL is field: <field>):
- district R15: 无此北京区代码（消息列出有效代码）/ no Beijing district has this code (the message lists the valid ones)';
