-- Who owns what: every schema, table, view, sequence, type and function of
-- jobs, bank, api and reporting belongs to timebank_owner (sql/migrations/
-- 0022), a NOLOGIN role that is no superuser and that no application login
-- is a member of (issue 15, finding 5). Objects are created by the
-- migrator's login and given to the owner here, each time the definitions
-- are applied, so a migration need not say so.
--
-- Why it matters: SECURITY DEFINER functions run as their owner, so the
-- api's and the steps' functions hold exactly the owner's rights, not a
-- superuser's (they cannot SET session_replication_role); and the only
-- logins that can disable the ledger's triggers (ALTER TABLE is the
-- owner's) are a superuser's and the migrator's, a DBA's credentials.
-- (The migrator's own record, schema meta, stays the migrator's.)

DO $ownership$
DECLARE
    owner_oid oid := 'timebank_owner'::regrole;
    change text;
BEGIN
    FOR change IN
        SELECT format('ALTER SCHEMA %I OWNER TO timebank_owner', n.nspname)
          FROM pg_namespace n
         WHERE n.nspname IN ('jobs', 'bank', 'api', 'reporting') AND n.nspowner <> owner_oid
        UNION ALL
        -- Tables, views, sequences; a sequence a table owns (serial,
        -- identity) follows its table.
        SELECT format('ALTER %s %s OWNER TO timebank_owner',
                      CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                      c.oid::regclass)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('jobs', 'bank', 'api', 'reporting') AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
           AND c.relowner <> owner_oid
           -- (A partition depends on its partitioned table too, and a partitioned table on its own
           -- columns, but each has an owner of its own: only sequences follow their table.)
           AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
                              AND d.refclassid = 'pg_class'::regclass))
        UNION ALL
        -- Enums, domains, ranges (their array and multirange types follow them).
        SELECT format('ALTER TYPE %s OWNER TO timebank_owner', t.oid::regtype)
          FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname IN ('jobs', 'bank', 'api', 'reporting') AND t.typtype IN ('e', 'd', 'r')
           AND t.typowner <> owner_oid
        UNION ALL
        -- Functions; not an extension's, nor those a type made for itself.
        SELECT format('ALTER ROUTINE %s OWNER TO timebank_owner', p.oid::regprocedure)
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname IN ('jobs', 'bank', 'api', 'reporting') AND p.proowner <> owner_oid
           AND NOT EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype IN ('e', 'i'))
    LOOP
        EXECUTE change;
    END LOOP;
END
$ownership$;
