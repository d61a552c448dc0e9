import ArgumentParser
import PostgresClient
import TimebankWorkers

struct Ledger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the ledger.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-derive every balance from the transfers and check the ledger's invariants.",
            discussion: """
                Checks, in one snapshot: account totals equal their transfers' sums; debits equal credits; no \
                personal account below zero; total coins equal total granted; holds resolved at most once; every \
                settled service paid exactly once for its served minutes; every checked-out service settled or \
                queued; every open service's coins held. Exits 1 and names the first broken one otherwise.
                """
        )

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let connection = try await PostgresConnection.connect(try await database.resolve())
            let checks = try await LedgerVerifier.run(connection)
            await connection.close()
            for check in checks {
                print("\(check.problem == nil ? "ok    " : "BROKEN") \(check.name)\(check.problem.map { ": \($0)" } ?? "")")
            }
            if let broken = checks.first(where: { $0.problem != nil }) {
                print("the ledger does not verify: \(broken.name)")
                throw ExitCode(1)
            }
            print("the ledger verifies")
        }
    }
}
