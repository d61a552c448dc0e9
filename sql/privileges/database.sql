-- What any login may do in this database beyond our schemas (issue 15,
-- finding 6): no TEMP tables, no objects in schema public. PostgreSQL
-- grants both to PUBLIC by default (CREATE on public until version 15); an
-- application login has no use for either, and a compromised one could
-- shadow functions or fill the disk with them. The owner's members (the
-- DBA's `timebank ledger verify` builds a TEMP table) keep TEMP.
--
-- A database's ACL is not copied from its template: this file runs in
-- every database the migrator migrates, each time the definitions are
-- applied. Without the rights to change them (a migrator that does not
-- own the database) it warns and leaves them; docs/runbook.md gives the
-- two statements for the DBA.

DO $database$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO timebank_owner', current_database());
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'the migrator may not change this database''s TEMP or public-schema rights (%): see docs/runbook.md', SQLERRM;
END
$database$;
