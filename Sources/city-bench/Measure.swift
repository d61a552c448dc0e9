import ArgumentParser
import Foundation
import PostgresClient
import TimebankOperations

/// `city-bench prepare-settlement`: services in progress in the database
/// measured (empty or loaded), SettlementFixture's, and tables of them for
/// pgbench: bench_service (n, id, volunteer_id) for api.check_out,
/// bench_elder (n, id) for api.publish_demand.
struct PrepareSettlement: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prepare-settlement",
                                                    abstract: "Services in progress, and their tables for pgbench.")
    @OptionGroup var options: ServerOptions
    @Option(help: "Services to settle.") var services = 20_000

    func run() async throws {
        let connection = try await PostgresConnection.connect(options.settings)
        // The fixture's budget covers yesterday to tomorrow: a history generated
        // before CitySQL's budgets ended two days ago has its end moved there
        // (no grant of the history falls in those days: R9, L11 hold).
        try await connection.executeScript("""
            UPDATE bank.district_budget SET period = daterange(lower(period), bank.local_today() - 1)
             WHERE district_code = '110105' AND period && daterange(bank.local_today() - 1, bank.local_today() + 1, '[]')
               AND lower(period) < bank.local_today() - 1
            """)
        _ = try await SettlementFixture.prepare(connection, services: services)
        try await connection.executeScript("""
            CREATE TABLE bench_service AS
              SELECT row_number() OVER (ORDER BY s.id) AS n, s.id, s.volunteer_id FROM bank.service s WHERE s.description LIKE 'fixture %' AND s.status = 'in_progress';
            CREATE TABLE bench_elder AS
              SELECT row_number() OVER (ORDER BY e.person_id) AS n, e.person_id AS id
                FROM bank.elder e JOIN bank.person p ON p.id = e.person_id WHERE p.name LIKE 'Fixture %';
            ALTER TABLE bench_service ADD PRIMARY KEY (n); ALTER TABLE bench_elder ADD PRIMARY KEY (n);
            -- Ten coins more for each (the fixture grants exactly what its holds take), granted as
            -- bank.settlement_grant does (R9: its request, the budget), for api.publish_demand to spend.
            WITH requests AS (
                INSERT INTO bank.request (kind, args)
                SELECT 'grant_coins', jsonb_build_object('elder_id', id, 'district_code', '110105', 'category', 'economically_disadvantaged',
                                                         'minutes', 600)
                  FROM bench_elder ORDER BY n
                RETURNING id, (args->>'elder_id')::bigint AS elder
            ), granted AS (
                INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, grant_category, request_id)
                SELECT 'grant:' || r.id, 'posted', 'grant', g.id, a.id, 600, 'economically_disadvantaged', r.id
                  FROM requests r JOIN bank.account a ON a.person_id = r.elder CROSS JOIN bank.account g WHERE g.district_code = '110105'
                RETURNING id, request_id
            ), finished AS (
                UPDATE bank.request q SET status = 'completed', result = jsonb_build_object('transfer_id', t.id), finished_at = now()
                  FROM granted t WHERE q.id = t.request_id
                RETURNING q.id
            )
            UPDATE bank.district_budget SET granted_minutes = granted_minutes + 600 * (SELECT count(*) FROM finished)
             WHERE district_code = '110105' AND period @> bank.local_today()
            """)
        try await connection.executeScript("VACUUM ANALYZE")
        await connection.close()
    }
}

/// `city-bench check-out`: the services in progress checked out (as
/// bank.order_check_out leaves them) and numbered in batches for pgbench to
/// settle with our own `bank.settlement_settle`, as settle-bench's direct
/// reference does: what settling costs beside the history, without the
/// job engine. Prints the number of batches.
struct CheckOut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-out", abstract: "Check out bench_service, batched for pgbench.")
    @OptionGroup var options: ServerOptions
    @Option(help: "Services per bank.settlement_settle call (the settlement worker's claim batch).") var batch = 100

    func run() async throws {
        let connection = try await PostgresConnection.connect(options.settings)
        let ids = try await connection.query("SELECT id FROM bench_service ORDER BY n").map { try $0.decode("id", as: Int64.self) }
        for chunk in stride(from: 0, to: ids.count, by: 1000) {
            try await SettlementFixture.checkOut(connection, Array(ids[chunk..<min(chunk + 1000, ids.count)]))
        }
        try await connection.executeScript("""
            DROP TABLE IF EXISTS settle_direct_batch; DROP SEQUENCE IF EXISTS settle_direct_next;
            CREATE TABLE settle_direct_batch AS
              SELECT batch, array_agg(id ORDER BY id) AS ids
                FROM (SELECT (row_number() OVER (ORDER BY id) - 1) / \(batch) + 1 AS batch, id
                        FROM bank.service WHERE status = 'checked_out' AND settled_at IS NULL) s
               GROUP BY batch;
            ALTER TABLE settle_direct_batch ADD PRIMARY KEY (batch);
            CREATE SEQUENCE settle_direct_next
            """)
        try await connection.executeScript("VACUUM ANALYZE")
        print(try await connection.query("SELECT count(*)::int AS n FROM settle_direct_batch")[0].decode("n", as: Int.self))
        await connection.close()
    }
}
