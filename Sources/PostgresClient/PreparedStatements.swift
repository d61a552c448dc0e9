/// How a connection sends parameterised statements (issue 16, item 5).
///
/// `.named` prepares each statement once per session under a name of its
/// own (`tb1`, `tb2`...) and runs it by name after: no parse or plan on the
/// next run. A name lives in the server session, so it breaks behind a
/// transaction pooler (PgBouncer's `pool_mode = transaction`), where each
/// transaction may run on another server session: `tb1` is missing there,
/// or is another client's statement.
///
/// `.unnamed` sends every statement with its parameters in one message
/// (`PQexecParams`, the unnamed statement of the extended protocol), parsed
/// and planned each time: what works through any pooler (pgx's
/// `QueryExecModeExec`). PgBouncer 1.18, Debian's, has no support for
/// protocol-level named statements; 1.21 and later can track them
/// (`max_prepared_statements`), where `.named` would work again.
public enum PreparedStatements: String, Sendable, CaseIterable {
    case named
    case unnamed
}
