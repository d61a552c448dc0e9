-- 0023: analysts see groups, not people (issue 15, finding 8; R23).
--
-- reporting.volunteers, reporting.milestones, reporting.special_elders and
-- reporting.balances_as_of gave exact minutes per stable pseudonym beside
-- district, gender and age band: with one person in a group, knowing a
-- balance named the person. From here on timebank_analyst reads aggregates
-- only, and no cell of fewer than k people (reporting_min_group_size,
-- below) reaches it: such a cell's row is left out, and so is the smallest
-- other cell of its group when what was left out would cover fewer than k
-- people (differencing; sql/views/reporting.sql says how, and what remains).
-- Rows per pseudonym are a separate role's, timebank_analyst_detail, through
-- functions that record every read (sql/functions/reporting/detail.sql).
--
-- The per-person views go (their aggregated forms are new views of
-- sql/views/reporting.sql); balances_as_of takes a purpose now, so its old
-- form goes too. No CASCADE: nothing depends on them. On a fresh database
-- they do not exist yet (definitions come after the migrations): IF EXISTS.

DROP VIEW IF EXISTS reporting.volunteers;
DROP VIEW IF EXISTS reporting.milestones;
DROP VIEW IF EXISTS reporting.special_elders;
DROP FUNCTION IF EXISTS reporting.balances_as_of(date);

-- k, the smallest group an analyst may see. Below 1 it would mean nothing;
-- 1 turns suppression off (for tests of the figures themselves, never in
-- production: the privacy officer sets it, 5 or more).
INSERT INTO bank.setting (name, value, description) VALUES
    ('reporting_min_group_size', 5, 'R23 (ours): the fewest distinct people a reporting cell may describe; smaller cells are not shown to analysts')
ON CONFLICT (name) DO NOTHING;
-- R23: a group size of 0 or less would show every cell; refused.
ALTER TABLE bank.setting ADD CONSTRAINT setting_min_group_size_positive
    CHECK (name <> 'reporting_min_group_size' OR value >= 1);
COMMENT ON CONSTRAINT setting_min_group_size_positive ON bank.setting IS
    'R23: k, the smallest group analysts see, is at least 1 (1 shows everything; production keeps 5 or more).';

-- The role that may read rows per pseudonym (a fraud review, an award
-- check): no login, granted to the few analysts who need it, never to
-- timebank_analyst. Cluster-wide, so creation tolerates an existing role
-- (another database's migration).
DO $roles$
BEGIN
    CREATE ROLE timebank_analyst_detail NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created by another database's migration: fine
END
$roles$;
GRANT USAGE ON SCHEMA reporting TO timebank_analyst_detail;

-- R23: every read of rows per pseudonym: who, when, which function, with
-- which arguments (the purpose among them), how many rows. Written by the
-- detail functions (SECURITY DEFINER, as the owner); no application role
-- may read or change it: the privacy officer reads it as the owner.
CREATE TABLE bank.reporting_detail_read (
    -- From a sequence, which a rollback does not rewind: a read whose
    -- transaction was rolled back leaves a gap here (bank.reporting_detail_read_gaps)
    -- and its whole record in the server log.
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The database login that read (session_user: SET ROLE does not change it).
    login      text NOT NULL DEFAULT session_user,
    -- The SET ROLE in effect then ('none': the login's own rights).
    acting_as  text NOT NULL,
    read_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- The function called, schema-qualified: reporting.volunteer_detail, ...
    function   text NOT NULL CONSTRAINT detail_read_function_named CHECK (function ~ '^reporting\.[a-z_]+$'),
    -- Its arguments by name, the purpose among them.
    arguments  jsonb NOT NULL CONSTRAINT detail_read_arguments_object CHECK (jsonb_typeof(arguments) = 'object'),
    -- R23: a read has a reason, given by the reader.
    CONSTRAINT detail_read_purpose_given CHECK (length(btrim(arguments->>'purpose')) BETWEEN 1 AND 500),
    -- The rows it returned.
    row_count  bigint NOT NULL CONSTRAINT detail_read_rows_counted CHECK (row_count >= 0)
);
COMMENT ON TABLE bank.reporting_detail_read IS 'R23: every read of reporting rows per pseudonym (timebank_analyst_detail): who, when, which function, arguments, rows. 化名明细查阅记录';
COMMENT ON CONSTRAINT detail_read_function_named ON bank.reporting_detail_read IS 'Names the reporting function read, schema-qualified.';
COMMENT ON CONSTRAINT detail_read_arguments_object ON bank.reporting_detail_read IS 'Arguments by name, so the record reads on its own.';
COMMENT ON CONSTRAINT detail_read_purpose_given ON bank.reporting_detail_read IS 'R23: no read of people''s rows without a stated reason.';
COMMENT ON CONSTRAINT detail_read_rows_counted ON bank.reporting_detail_read IS 'How many rows the read returned: none is a count too.';
