import Foundation
import PostgresClient

/// Applying the definitions (sql/functions, sql/views, sql/privileges) as one set.
extension PostgresConnection {
    /// The schemas whose functions, views and triggers the definitions own:
    /// anything there that no file defines is refused (see ``applyDefinitions(_:)``).
    static let definedSchemas = ["jobs", "bank", "api", "reporting"]

    /// A `pg_proc p` row that is ours: no extension's member, nor a function
    /// a type makes for itself (a range type's constructors).
    static let ourFunction = """
        NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype IN ('e', 'i'))
        """

    /// SQLSTATEs of a definition that needs one applied later (a function
    /// whose SQL-standard body calls another file's function, a view on a
    /// view): the file is tried again after the others.
    static let missingDependency: Set<PostgresError.Code> = [
        PostgresError.Code("42883"),  // undefined_function
        .undefinedTable,              // undefined_table
        PostgresError.Code("42704"),  // undefined_object (a type)
    ]

    /// SQLSTATEs of a change that CREATE OR REPLACE cannot make: a
    /// function's return type or parameter names, a view's columns.
    static let needsMigration: Set<PostgresError.Code> = [
        PostgresError.Code("42P13"),  // invalid_function_definition
        PostgresError.Code("42P16"),  // invalid_table_definition
        PostgresError.Code("42809"),  // wrong_object_type
    ]

    /// Each definition file's SHA-256, by path.
    func definitionChecksums(_ migrator: Migrator) throws -> [String: String] {
        try checksumsOf(migrator.definitions.map { ($0.path, $0.sql) })
    }

    func definitionsCurrent(_ migrator: Migrator, checksums: [String: String]) throws -> Bool {
        guard !migrator.definitions.isEmpty else { return true }  // this migrator does not manage definitions
        let exists = try query("SELECT to_regclass('meta.applied_definitions') IS NOT NULL AS present")
        guard try exists[0].decode("present", as: Bool.self) else { return false }
        var recorded: [String: String] = [:]
        for row in try query("SELECT path, checksum FROM meta.applied_definitions") {
            recorded[try row.decode("path")] = try row.decode("checksum", as: String.self)
        }
        return recorded == checksums
    }

    /// Applies every definition in the open transaction: functions and
    /// views (each file tried again after the others while it lacks one of
    /// theirs), the check that no function, view or trigger is left that no
    /// file defined in this run, every function body validated, then the
    /// privileges, then the record.
    func applyDefinitionsInTransaction(_ migrator: Migrator, checksums: [String: String]) throws {
        // As pg_dump does, while the files are created in any order; the bodies are validated below.
        try query("SELECT set_config('check_function_bodies', 'off', true)")
        let before = try definedObjects()
        try applyInDependencyOrder(migrator.definitions.filter { !$0.path.hasPrefix("privileges/") })
        let after = try definedObjects()
        let leftovers = after.filter { before[$0.key] == $0.value }.keys.sorted()
        guard leftovers.isEmpty else {
            throw MigrationError(kind: .leftoverDefinition, file: "sql/", message: leftovers.joined(separator: ", "))
        }
        try query("SELECT set_config('check_function_bodies', 'on', true)")
        try validateFunctionBodies()
        try applyInDependencyOrder(migrator.definitions.filter { $0.path.hasPrefix("privileges/") })
        try query("DELETE FROM meta.applied_definitions")
        try query(
            "INSERT INTO meta.applied_definitions (path, checksum) SELECT * FROM unnest($1::text[], $2::text[])",
            [migrator.definitions.map(\.path), migrator.definitions.map { checksums[$0.path]! }])
    }

    /// Runs each function's language validator (plpgsql's compiles the
    /// body), now that everything it names exists: a syntax error is found
    /// here, named, not at the function's first call.
    private func validateFunctionBodies() throws {
        let functions = try query("""
            SELECT p.oid::bigint AS oid, p.oid::regprocedure::text AS name, l.lanvalidator::regprocedure::text AS validator
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
             WHERE n.nspname = ANY($1::text[]) AND l.lanvalidator <> 0 AND p.prosqlbody IS NULL
               AND \(Self.ourFunction)
            """, [Self.definedSchemas])
        for function in functions {
            let name = try function.decode("name", as: String.self)
            let validator = try function.decode("validator", as: String.self)
            let call = "SELECT \(validator.prefix { $0 != "(" })($1::bigint::oid)"
            do {
                try query(call, [try function.decode("oid", as: Int64.self)])
            } catch let error as PostgresError where !error.isLockConflict {
                throw MigrationError(kind: .failed, file: "sql/functions", message: "function \(name): \(error.description)")
            }
        }
    }

    private func applyInDependencyOrder(_ definitions: [Definition]) throws {
        var remaining = definitions
        var lastProblem: [String: PostgresError] = [:]
        while !remaining.isEmpty {
            var deferred: [Definition] = []
            for definition in remaining {
                try executeScript("SAVEPOINT definition")
                do {
                    try executeScript(definition.sql)
                    try executeScript("RELEASE SAVEPOINT definition")
                } catch let error as PostgresError where error.code.map(Self.missingDependency.contains) == true {
                    try executeScript("ROLLBACK TO SAVEPOINT definition")
                    deferred.append(definition)
                    lastProblem[definition.path] = error
                } catch let error as PostgresError where !error.isLockConflict {
                    var message = error.description
                    if error.code.map(Self.needsMigration.contains) == true {
                        message += "; CREATE OR REPLACE cannot change a function's return type or parameter names, or a view's columns: drop the old one in a numbered migration (without CASCADE), see sql/README.md"
                    }
                    throw MigrationError(kind: .failed, file: definition.path, message: message)
                }
            }
            if deferred.count == remaining.count {
                let first = deferred[0]
                throw MigrationError(kind: .failed, file: first.path,
                                     message: "\(lastProblem[first.path]!.description) (and no other file defines it)")
            }
            remaining = deferred
        }
    }

    /// Every function, view and (user) trigger in ``definedSchemas``, with
    /// the version of its catalog row: CREATE OR REPLACE writes a new row
    /// version, so an object whose version is the same after the files ran
    /// was defined by none of them. Extensions' functions are not ours, nor
    /// those a type makes for itself (a range type's constructors).
    private func definedObjects() throws -> [String: String] {
        let rows = try query("""
            SELECT 'function ' || p.oid::regprocedure::text AS name, p.xmin::text AS version
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = ANY($1::text[])
               AND \(Self.ourFunction)
            UNION ALL
            SELECT 'view ' || c.oid::regclass::text, r.xmin::text
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_rewrite r ON r.ev_class = c.oid
             WHERE c.relkind = 'v' AND n.nspname = ANY($1::text[])
            UNION ALL
            SELECT 'trigger ' || t.tgname || ' on ' || c.oid::regclass::text, t.xmin::text
              FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE NOT t.tgisinternal AND n.nspname = ANY($1::text[])
            """, [Self.definedSchemas])
        var objects: [String: String] = [:]
        for row in rows { objects[try row.decode("name")] = try row.decode("version", as: String.self) }
        return objects
    }
}
