import ArgumentParser
import Foundation
import PostgresClient
import TimebankOperations
import TimebankWorkers
import WorkerHost

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
        @Option(help: ArgumentHelp(
            "Also write the outcome as Prometheus text (timebank_ledger_verify_ok, timebank_ledger_verify_timestamp_seconds) to this file, for node_exporter's textfile collector when verify runs on a schedule.",
            valueName: "file"))
        var metricsFile: String?

        func run() async throws {
            let connection = try await PostgresConnection.connect(try await database.resolveOrStartLocalCluster())
            let checks = try await LedgerVerifier.run(connection)
            // For the web console's ledger page. A login without the owner's rights verifies all the same.
            do { try await LedgerVerifier.record(connection, checks) } catch {
                FileHandle.standardError.write(Data("note: the outcome was not recorded for the console (\(error))\n".utf8))
            }
            await connection.close()
            if let metricsFile {
                let ok = checks.allSatisfy { $0.problem == nil } ? 1 : 0
                let text = """
                    # HELP timebank_ledger_verify_ok 1 if the last timebank ledger verify passed.
                    # TYPE timebank_ledger_verify_ok gauge
                    timebank_ledger_verify_ok \(ok)
                    # HELP timebank_ledger_verify_timestamp_seconds When the last timebank ledger verify ran.
                    # TYPE timebank_ledger_verify_timestamp_seconds gauge
                    timebank_ledger_verify_timestamp_seconds \(Int(Date().timeIntervalSince1970))

                    """
                // Written whole, then renamed: the collector never reads half a file.
                try text.write(toFile: metricsFile, atomically: true, encoding: .utf8)
            }
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
