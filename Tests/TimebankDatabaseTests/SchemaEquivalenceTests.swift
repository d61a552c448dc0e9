import DevCluster
import Foundation
import PostgresClient
import TestSupport
import TimebankDatabase
import Testing

/// Issue 14: the migrations hold data, sql/functions, sql/views and
/// sql/privileges hold the current definitions. A database migrated by the
/// release before the split (every function in its migrations, 0001-0020)
/// and then by this one ends with exactly the schema of a fresh database.
@Suite struct SchemaEquivalenceTests {
    /// The last commit of `main` whose sql/ kept every function in its migrations.
    static let beforeTheSplit = "9ed73d2"

    @Test func aDatabaseMigratedBeforeTheSplitEndsLikeAFreshOne() async throws {
        let earlierSQL = try await Self.checkout(sqlAt: Self.beforeTheSplit)
        defer { try? FileManager.default.removeItem(at: earlierSQL) }
        try await TestDatabase.with(migrated: false) { fresh in
            try await TestDatabase.with(migrated: false) { upgraded in
                let migrator = try Migrator.project()
                let freshConnection = try await fresh.connect()
                let first = try await migrator.migrate(freshConnection)
                #expect(first.applied.count == migrator.migrations.count && first.definitionsApplied)
                await freshConnection.close()

                // The earlier release's migrator knew only flat NNNN files.
                let connection = try await upgraded.connect()
                let earlier = try Migration.load(from: earlierSQL.appendingPathComponent("sql"))
                #expect(earlier.count == 20)
                try await Migrator(migrations: earlier).migrate(connection)
                let upgrade = try await migrator.migrate(connection)
                // Only the migrations written since the split.
                #expect(upgrade.applied == migrator.migrations.filter { $0.version > 20 }.map(\.fileName))
                #expect(upgrade.rewritten.count == 20, "every rewritten file's earlier checksum is in rewritten.txt")
                #expect(upgrade.definitionsApplied)
                #expect(try await migrator.isCurrent(connection))
                let again = try await migrator.migrate(connection)
                #expect(again.rewritten.isEmpty && !again.definitionsApplied, "a second run has nothing to do")
                await connection.close()

                let freshSchema = try await Self.schemaDump(fresh)
                let upgradedSchema = try await Self.schemaDump(upgraded)
                #expect(freshSchema.contains("CREATE FUNCTION bank.settlement_settle(services bigint[])"))
                #expect(freshSchema == upgradedSchema, "pg_dump --schema-only differs: \(Self.firstDifference(freshSchema, upgradedSchema))")

                // A database of an older release still (migrated to 0019): the rewritten 0020
                // drops the old settlement_settle, whose result the definitions change.
                try await TestDatabase.with(migrated: false) { older in
                    let connection = try await older.connect()
                    try await Migrator(migrations: earlier.filter { $0.version <= 19 }).migrate(connection)
                    let upgrade = try await migrator.migrate(connection)
                    #expect(upgrade.applied == migrator.migrations.filter { $0.version >= 20 }.map(\.fileName))
                    #expect(upgrade.rewritten.count == 19)
                    await connection.close()
                    let olderSchema = try await Self.schemaDump(older)
                    #expect(freshSchema == olderSchema, "pg_dump --schema-only differs: \(Self.firstDifference(freshSchema, olderSchema))")
                }
            }
        }
    }

    /// sql/ as it was at `commit`, from git (a CI clone has the history).
    static func checkout(sqlAt commit: String) async throws -> URL {
        let root = try Migration.defaultDirectory().deletingLastPathComponent()
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("sql-\(commit)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let archive = try await ChildProcess.run("/usr/bin/env", ["git", "-C", root.path, "archive", "--format=tar", "-o", target.path + "/sql.tar", commit, "sql"])
        #expect(archive.status == 0, "git archive \(commit) sql: \(archive.output) (the test needs the repository's history)")
        let untar = try await ChildProcess.run("/usr/bin/env", ["tar", "-xf", target.path + "/sql.tar", "-C", target.path])
        #expect(untar.status == 0, "tar: \(untar.output)")
        return target
    }

    static func schemaDump(_ database: TestDatabase) async throws -> String {
        let dump = try await ChildProcess.run("/usr/bin/env", ["pg_dump", "--schema-only", database.settings.conninfoWithDatabase])
        guard dump.status == 0 else { throw PostgresError(.usage, message: "pg_dump failed: \(dump.output)") }
        // pg_dump 15.14+ writes a random \restrict key on each run.
        return dump.output.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("\\restrict") && !$0.hasPrefix("\\unrestrict") }.joined(separator: "\n")
    }

    static func firstDifference(_ a: String, _ b: String) -> String {
        let left = a.split(separator: "\n", omittingEmptySubsequences: false)
        let right = b.split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<min(left.count, right.count) where left[index] != right[index] {
            return "line \(index + 1): \(left[index]) | \(right[index])"
        }
        return "lengths \(left.count) and \(right.count)"
    }
}
