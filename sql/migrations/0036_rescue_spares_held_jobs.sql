-- 0036: jobs.rescue takes the calling worker and the jobs it holds, and
-- never rescues those (sql/functions/jobs/engine.sql says why). The
-- definitions create the new signature, whose two new arguments have
-- defaults, so that a worker of the release before still calling
-- jobs.rescue(limit) during a rolling upgrade reaches it; the old one goes
-- here, in the same transaction, so that one definition is left.
DROP FUNCTION IF EXISTS jobs.rescue(integer);
