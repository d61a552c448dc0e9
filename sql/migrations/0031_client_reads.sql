-- 0031: what a client developer reads back (issue 19, items 2-3).
--
-- The relation kinds of R8 were a CHECK constraint's list, so no client
-- could read them (nor their Chinese names). They become a reference table
-- like the categories and districts of 0003, which api.relation_kinds
-- lists; the relationship's relation refers to it. `inverse` is what the
-- person is to the relative (a parent's child), so that a statement of
-- account (api.account_statement) can name a gift's counterparty from
-- either side.

CREATE TABLE bank.relation_kind (
    code    text PRIMARY KEY,
    name_zh text NOT NULL,
    name_en text NOT NULL,
    inverse text NOT NULL
);
COMMENT ON TABLE bank.relation_kind IS 'R8: the lineal relations a gift of coins may follow: what the relative is to the person declaring. 直系亲属关系类别';
INSERT INTO bank.relation_kind (code, name_zh, name_en, inverse) VALUES
    ('parent', '父母', 'parent', 'child'),
    ('grandparent', '祖父母、外祖父母', 'grandparent', 'grandchild'),
    ('child', '子女', 'child', 'parent'),
    ('grandchild', '孙子女、外孙子女', 'grandchild', 'grandparent');
ALTER TABLE bank.relation_kind ADD CONSTRAINT relation_kind_inverse_known FOREIGN KEY (inverse) REFERENCES bank.relation_kind;
COMMENT ON CONSTRAINT relation_kind_inverse_known ON bank.relation_kind IS
    'A relation read from the relative''s side is itself a lineal relation of the list.';

-- The list stays the table's: a relation outside it is refused by the
-- reference (as by the CHECK before, which it replaces).
ALTER TABLE bank.relationship ADD CONSTRAINT relationship_relation_known FOREIGN KEY (relation) REFERENCES bank.relation_kind;
COMMENT ON CONSTRAINT relationship_relation_known ON bank.relationship IS
    'R8: gifts follow lineal relations only, those of bank.relation_kind.';
ALTER TABLE bank.relationship DROP CONSTRAINT relationship_lineal;
