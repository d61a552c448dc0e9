import PostgresClient

/// The client contract as the database itself describes it: every function
/// of schema `api`, read from the catalog (`pg_proc`, and the COMMENT each
/// has in its file under sql/functions/api/), so that what `timebank api`,
/// docs/api.md and `\df+ api.*` show is what the database runs.
public struct APIFunction: Sendable, Equatable {
    /// Qualified: `api.balance`.
    public var name: String
    /// As PostgreSQL prints them, defaults included: `person_id bigint`.
    public var arguments: String
    /// The input arguments' names, in order (not a `RETURNS TABLE`'s columns).
    public var argumentNames: [String]
    /// `bigint`, `TABLE(status text, ...)`.
    public var result: String
    /// The roles granted EXECUTE (sql/privileges/functions.sql), the owner aside.
    public var callers: [String]
    public var comment: String?

    public var signature: String { "\(name)(\(arguments))" }
}

public enum APICatalog {
    public static func functions(_ connection: PostgresConnection) async throws -> [APIFunction] {
        try await connection.query(
            """
            SELECT n.nspname || '.' || p.proname AS name,
                   pg_get_function_arguments(p.oid) AS arguments,
                   -- proargmodes is NULL when every argument is an input; unnest pads it with NULLs.
                   ARRAY(SELECT a.name FROM unnest(p.proargnames, p.proargmodes) WITH ORDINALITY AS a(name, mode, position)
                          WHERE coalesce(a.mode, 'i') IN ('i', 'b', 'v') ORDER BY a.position) AS argument_names,
                   pg_get_function_result(p.oid) AS result,
                   ARRAY(SELECT r.rolname::text FROM aclexplode(p.proacl) x JOIN pg_roles r ON r.oid = x.grantee
                          WHERE x.privilege_type = 'EXECUTE' AND x.grantee <> p.proowner ORDER BY r.rolname) AS callers,
                   obj_description(p.oid, 'pg_proc') AS comment
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'api'
             ORDER BY p.proname, pg_get_function_identity_arguments(p.oid)
            """
        ).map { row in
            APIFunction(name: try row.decode("name"), arguments: try row.decode("arguments"),
                        argumentNames: try row.decode("argument_names"), result: try row.decode("result"),
                        callers: try row.decode("callers"), comment: try row.decode("comment"))
        }
    }
}
