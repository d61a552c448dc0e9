import ArgumentParser
import Foundation
import PostgresClient
import TimebankOperations
import TimebankWorkers
import WorkerHost

struct Ledger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the ledger.",
        subcommands: [Verify.self, Snapshot.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-derive every balance from the transfers and check the ledger's invariants.",
            discussion: """
                Checks, in one snapshot: account totals equal their transfers' sums; debits equal credits; no \
                personal account below zero; total coins equal total granted; holds resolved at most once; every \
                settled service paid exactly once for its served minutes; every checked-out service settled or \
                queued; every open service's coins held; every daily balance snapshot the day before's plus its \
                transfers. Exits 1 and names the first broken one otherwise.

                By default incremental: from the last balance snapshot a verified run checked, it checks the \
                snapshots since, every account against the latest snapshot plus the transfers after it, and \
                one by one only the transfers (and their services) since; a full run when nothing was verified \
                yet. --full re-derives everything from every transfer: it also finds a snapshot or transfer \
                altered before the last verified point (run it on a slower schedule, say weekly).
                """
        )

        @OptionGroup var database: DatabaseOptions
        @Option(help: ArgumentHelp(
            "Also write the outcome as Prometheus text (timebank_ledger_verify_ok, timebank_ledger_verify_timestamp_seconds) to this file, for node_exporter's textfile collector when verify runs on a schedule.",
            valueName: "file"))
        var metricsFile: String?
        @Flag(help: "Re-derive every balance and snapshot from every transfer, not from the last verified snapshot.")
        var full = false

        func run() async throws {
            let connection = try await PostgresConnection.connect(try await database.resolveOrStartLocalCluster())
            let (scope, checks) = try await LedgerVerifier.verify(connection, full: full)
            print(scope.mode == "full" ? "full verify" : "incremental verify from the snapshot of \(scope.fromDay ?? "?") to \(scope.snapshotDay ?? "?")")
            // For the web console's ledger page and the next incremental run. A login without the owner's rights verifies all the same.
            do { try await LedgerVerifier.record(connection, checks, scope: scope) } catch {
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

    struct Snapshot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Snapshot every account's balance at the end of each day not yet snapshotted.",
            discussion: """
                Each day (Beijing time) from the day of the first transfer, or the day after the last snapshot, \
                up to the last day that ended snapshot_delay_minutes ago: every account's totals from the day \
                before's snapshot plus the day's transfers. What reporting's as-of balances and an incremental \
                ledger verify start from. Idempotent; the settlement worker's daily ledger.snapshot job does the same.
                """
        )
        @OptionGroup var database: DatabaseOptions
        @Option(help: ArgumentHelp("Snapshot no day after this one (YYYY-MM-DD).", valueName: "day")) var upTo: String?

        func run() async throws {
            let connection = try await PostgresConnection.connect(try await database.resolveOrStartLocalCluster())
            let taken = try await BalanceSnapshots.take(connection, upTo: upTo)
            await connection.close()
            print("snapshotted \(taken) day(s)")
        }
    }
}
