import Foundation
import PostgresClient

/// Applying the definitions (sql/functions, sql/views, sql/privileges) as one set.
extension PostgresConnection {
    /// The schemas whose functions, views and triggers the definitions own:
    /// anything there that no file defines is refused (see ``applyDefinitions(_:)``).
    static let definedSchemas = ["jobs", "bank", "api", "reporting"]

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

    func definitionsCurrent(_ migrator: Migrator) throws -> Bool {
        guard !migrator.definitions.isEmpty else { return true }  // this migrator does not manage definitions
        let exists = try query("SELECT to_regclass('meta.applied_definitions') IS NOT NULL AS present")
        guard try exists[0].decode("present", as: Bool.self) else { return false }
        var recorded: [String: String] = [:]
        for row in try query("SELECT path, checksum FROM meta.applied_definitions") {
            recorded[try row.decode("path")] = try row.decode("checksum", as: String.self)
        }
        return recorded == (try checksumsOf(migrator.definitions.map { ($0.path, $0.sql) }))
    }

    /// Applies every definition in one transaction: functions and views
    /// (each file tried again after the others while it lacks one of
    /// theirs), then the check that no function, view or trigger is left
    /// that no file defined in this run, then the privileges, then the record.
    func applyDefinitions(_ migrator: Migrator) throws {
        guard !migrator.definitions.isEmpty else { return }
        let checksums = try checksumsOf(migrator.definitions.map { ($0.path, $0.sql) })
        try transaction { connection in
            // As pg_dump does: plpgsql and $$ bodies are checked when they run, not here.
            try connection.executeScript("SET LOCAL check_function_bodies = off")
            let before = try connection.definedObjects()
            let objects = migrator.definitions.filter { !$0.path.hasPrefix("privileges/") }
            try connection.applyInDependencyOrder(objects)
            let after = try connection.definedObjects()
            let leftovers = after.filter { before[$0.key] == $0.value }.keys.sorted()
            guard leftovers.isEmpty else {
                throw MigrationError(kind: .leftoverDefinition, file: "sql/",
                                     message: leftovers.joined(separator: ", "))
            }
            try connection.applyInDependencyOrder(migrator.definitions.filter { $0.path.hasPrefix("privileges/") })
            try connection.query("DELETE FROM meta.applied_definitions")
            try connection.query(
                "INSERT INTO meta.applied_definitions (path, checksum) SELECT * FROM unnest($1::text[], $2::text[])",
                [migrator.definitions.map(\.path), migrator.definitions.map { checksums[$0.path]! }])
        }
        migrator.logger.info("applied the definitions", metadata: ["files": "\(migrator.definitions.count)"])
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
                } catch let error as PostgresError {
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
    /// was defined by none of them. Extensions' functions are not ours.
    private func definedObjects() throws -> [String: String] {
        let rows = try query("""
            SELECT 'function ' || p.oid::regprocedure::text AS name, p.xmin::text AS version
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = ANY($1::text[])
               AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
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
