-- 0007: the ways coins move besides services (R7-R10): district budgets
-- (the table is the ledger's, 0004), verified lineal relatives and gifts
-- (R8), donations to the public-welfare account and grants from it (R10,
-- R11), and each volunteer's achievements (R12, R13). Every transfer here
-- keeps the ledger's invariants (0004, L1-L12).


-- ======================================================================
-- R8: lineal relatives, declared and then verified by staff

CREATE TABLE bank.relationship (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id     bigint NOT NULL REFERENCES bank.person,
    relative_id   bigint NOT NULL REFERENCES bank.person,
    -- What the relative is to the person: lineal kin only (R8).
    relation      text NOT NULL CONSTRAINT relationship_lineal CHECK (relation IN ('parent', 'grandparent', 'child', 'grandchild')),
    declared_at   timestamptz NOT NULL DEFAULT now(),
    request_id    bigint NOT NULL CONSTRAINT relationship_one_per_request UNIQUE REFERENCES bank.request,
    -- Staff verification, with the evidence it rests on (household register, certificate...).
    verified_at   timestamptz,
    verified_by   text,
    evidence_ref  text,
    CONSTRAINT relationship_of_two_people CHECK (person_id <> relative_id),
    CONSTRAINT relationship_declared_once UNIQUE (person_id, relative_id),
    CONSTRAINT relationship_verification_complete CHECK ((verified_at IS NULL) = (verified_by IS NULL) AND (verified_at IS NULL) = (evidence_ref IS NULL))
);
COMMENT ON TABLE bank.relationship IS 'R8: lineal relatives, declared by a person and verified by staff before any gift. 直系亲属关系';
GRANT SELECT, INSERT, UPDATE ON bank.relationship TO timebank_enrollment;
GRANT SELECT ON bank.relationship TO timebank_settlement;