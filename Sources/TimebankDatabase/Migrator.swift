import Foundation
import Logging
import PostgresClient

/// Applies numbered migrations to a database, each once, in order.
///
/// - Each file runs in its own transaction with its record in
///   `meta.applied_migrations`: it is applied whole or not at all.
/// - A session-level advisory lock serialises migrators, so two processes
///   started at once (two replicas of a worker, say) never both apply a
///   file: the second waits, then finds everything applied.
/// - Each record keeps the file's SHA-256; an applied file whose text
///   changed is refused, since the database no longer matches it.
public struct Migrator: Sendable {
    /// The advisory lock key: "timebank" in ASCII, so it is recognisable in `pg_locks`.
    public static let advisoryLockKey: Int64 = 0x74696D6562616E6B

    public var migrations: [Migration]
    public var logger: Logger

    public init(migrations: [Migration], logger: Logger = Logger(label: "timebank.migrate")) {
        self.migrations = migrations
        self.logger = logger
    }

    /// What one run did.
    public struct Outcome: Sendable, Equatable {
        public var applied: [String]
        public var alreadyApplied: Int
        /// Versions recorded in the database that no file here has: the
        /// database was migrated by a newer release.
        public var unknownVersions: [Int]
    }

    @discardableResult
    public func migrate(_ connection: PostgresConnection) async throws -> Outcome {
        try await connection.run(self)
    }

    /// The migrations not yet applied (for `readyz`-style checks); also
    /// verifies the checksums of the applied ones.
    public func pending(_ connection: PostgresConnection) async throws -> [Migration] {
        try await connection.pendingMigrations(self)
    }

    static let bootstrapSQL = """
        CREATE SCHEMA IF NOT EXISTS meta;
        COMMENT ON SCHEMA meta IS 'Bookkeeping of the database itself: which migrations are applied.';
        CREATE TABLE IF NOT EXISTS meta.applied_migrations (
            version     integer PRIMARY KEY,        -- the file's number; applied once
            name        text NOT NULL,              -- the rest of the file name
            checksum    text NOT NULL,              -- SHA-256 of the file, hex: edits are refused
            applied_at  timestamptz NOT NULL DEFAULT now(),
            duration_ms integer NOT NULL CHECK (duration_ms >= 0)
        );
        COMMENT ON TABLE meta.applied_migrations IS 'One row per migration file applied, written in the same transaction as the file.';
        """
}

extension PostgresConnection {
    fileprivate func run(_ migrator: Migrator) throws -> Migrator.Outcome {
        try query("SELECT pg_advisory_lock($1)", [Migrator.advisoryLockKey])
        defer { _ = try? query("SELECT pg_advisory_unlock($1)", [Migrator.advisoryLockKey]) }
        try executeScript(Migrator.bootstrapSQL)

        let applied = try appliedChecksums()
        let checksums = try checksumsOf(migrator.migrations)
        var outcome = Migrator.Outcome(applied: [], alreadyApplied: 0, unknownVersions: [])
        let known = Set(migrator.migrations.map(\.version))
        outcome.unknownVersions = applied.keys.filter { !known.contains($0) }.sorted()
        if !outcome.unknownVersions.isEmpty {
            migrator.logger.warning("the database has migrations this release does not know", metadata: [
                "versions": "\(outcome.unknownVersions)",
            ])
        }
        for migration in migrator.migrations {
            let checksum = checksums[migration.version]!
            if let recorded = applied[migration.version] {
                guard recorded == checksum else {
                    throw MigrationError(kind: .checksumMismatch, file: migration.fileName,
                                         message: "recorded \(recorded.prefix(12))..., file now \(checksum.prefix(12))...")
                }
                outcome.alreadyApplied += 1
                continue
            }
            let started = ContinuousClock.now
            do {
                try transaction { connection in
                    try connection.executeScript(migration.sql)
                    let elapsed = started.duration(to: .now).components
                    let milliseconds = Int(elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000)
                    try connection.query(
                        "INSERT INTO meta.applied_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)",
                        [migration.version, migration.name, checksum, milliseconds])
                }
            } catch let error as PostgresError {
                throw MigrationError(kind: .failed, file: migration.fileName, message: error.description)
            }
            migrator.logger.info("applied migration", metadata: ["file": "\(migration.fileName)"])
            outcome.applied.append(migration.fileName)
        }
        return outcome
    }

    fileprivate func pendingMigrations(_ migrator: Migrator) throws -> [Migration] {
        let exists = try query("SELECT to_regclass('meta.applied_migrations') IS NOT NULL AS present")
        guard try exists[0].decode("present", as: Bool.self) else { return migrator.migrations }
        let applied = try appliedChecksums()
        let checksums = try checksumsOf(migrator.migrations)
        var pending: [Migration] = []
        for migration in migrator.migrations {
            guard let recorded = applied[migration.version] else {
                pending.append(migration)
                continue
            }
            if recorded != checksums[migration.version] {
                throw MigrationError(kind: .checksumMismatch, file: migration.fileName, message: "applied file differs")
            }
        }
        return pending
    }

    private func appliedChecksums() throws -> [Int: String] {
        var applied: [Int: String] = [:]
        for row in try query("SELECT version, checksum FROM meta.applied_migrations") {
            applied[try row.decode("version")] = try row.decode("checksum", as: String.self)
        }
        return applied
    }

    /// SHA-256 computed by the server (PostgreSQL 11+), which spares a
    /// crypto dependency for one hash per file.
    private func checksumsOf(_ migrations: [Migration]) throws -> [Int: String] {
        guard !migrations.isEmpty else { return [:] }
        let rows = try query(
            "SELECT v AS version, encode(sha256(convert_to(t, 'UTF8')), 'hex') AS checksum FROM unnest($1::bigint[], $2::text[]) AS m(v, t)",
            [migrations.map(\.version), migrations.map(\.sql)])
        var checksums: [Int: String] = [:]
        for row in rows { checksums[try row.decode("version")] = try row.decode("checksum", as: String.self) }
        return checksums
    }
}
