-- 0032: the development clock (issue 19, item 6).
--
-- A service lasts hours: a client developer or a test that books one and
-- checks it out two hours later should not wait two hours. A database
-- marked as development holds one row here; its offset is added to the
-- real time wherever a rule of the bank reads the time
-- (bank.clock_now(), sql/functions/bank/clock.sql), so the api and every
-- worker see the same moved "now". A database without the row (every
-- production database) runs on real time, and nothing can move it: the
-- functions that move the clock refuse, naming the rule.
--
-- Who marks a database: only its owner or a superuser can write this
-- table (no application role writes a table, sql/privileges/tables.sql;
-- none reads this one), through bank.mark_development_database(), which
-- no application role executes. The local cluster's tooling does it for
-- the databases of a server it created (`timebank migrate`, `timebank up`,
-- `timebank db start` on the local cluster), the tests for their template.
-- `timebank migrate` on any other server does not.

CREATE TABLE bank.development_clock (
    development boolean PRIMARY KEY DEFAULT true
        CONSTRAINT development_clock_one_row CHECK (development),
    offset_by   interval NOT NULL DEFAULT interval '0'
        CONSTRAINT development_clock_never_behind CHECK (offset_by >= interval '0'),
    marked_at   timestamptz NOT NULL DEFAULT now(),
    marked_by   text NOT NULL DEFAULT current_user,
    moved_at    timestamptz
);
COMMENT ON TABLE bank.development_clock IS
    'Issue 19: present (one row) only in a database marked as development; its offset_by is added to the real time wherever a rule reads the time (bank.clock_now). Absent: real time, and the clock cannot move.';
COMMENT ON COLUMN bank.development_clock.offset_by IS
    'How far the development clock runs ahead of the real time.';
COMMENT ON COLUMN bank.development_clock.marked_by IS
    'Who marked the database as development (a role name, and the tool that did it).';
COMMENT ON CONSTRAINT development_clock_one_row ON bank.development_clock IS
    'One clock per database: the row''s presence is the mark, its offset the one "now" every session shares.';
COMMENT ON CONSTRAINT development_clock_never_behind ON bank.development_clock IS
    'The clock never reads earlier than the real time: a stamp written on real time (a request, a job) must never lie in the clock''s future.';
