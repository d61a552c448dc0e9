import Foundation
import Logging
import PostgresClient

/// Brings a database to what `sql/` says, in two parts (sql/README.md):
///
/// 1. **Numbered migrations** (`sql/migrations/NNNN_name.sql`): what holds
///    data. Each is applied once, in order, with its record in
///    `meta.applied_migrations`; an applied file whose text changed is
///    refused, unless `rewritten.txt` names the checksum the database
///    recorded (a reviewed rewrite, see ``RewrittenMigration``).
/// 2. **Definitions** (`sql/functions`, `sql/views`, `sql/privileges`): the
///    current form of everything that holds no data. Whenever any file of
///    the set changed, or a migration was applied, the whole set is applied
///    again, recorded in `meta.applied_definitions`, checked to leave no
///    function, view or trigger that no file defines, and validated.
///
/// The pending migrations and the definitions are applied in one
/// transaction: an upgrade applies whole or not at all.
///
/// A session-level advisory lock serialises migrators, so two processes
/// started at once (two replicas of a worker, say) never both apply a
/// file: the second waits, then finds everything applied.
public struct Migrator: Sendable {
    /// The advisory lock key: "timebank" in ASCII, so it is recognisable in `pg_locks`.
    public static let advisoryLockKey: Int64 = 0x74696D6562616E6B

    public var migrations: [Migration]
    public var definitions: [Definition]
    public var rewritten: [RewrittenMigration]
    public var logger: Logger
    /// How long the upgrade waits for one lock before it rolls back and tries again.
    public var lockTimeout: Duration = .seconds(5)
    /// How many times it tries.
    public var lockAttempts = 5

    public init(migrations: [Migration], definitions: [Definition] = [], rewritten: [RewrittenMigration] = [],
                logger: Logger = Logger(label: "timebank.migrate")) {
        self.migrations = migrations
        self.definitions = definitions
        self.rewritten = rewritten
        self.logger = logger
    }

    /// Everything `directory` (a `sql/` folder) holds: `migrations/`, its
    /// `rewritten.txt`, and the definitions.
    public static func load(from directory: URL, logger: Logger = Logger(label: "timebank.migrate")) throws -> Migrator {
        let migrationsFolder = directory.appendingPathComponent("migrations")
        let rewrittenFile = migrationsFolder.appendingPathComponent("rewritten.txt")
        let rewritten = FileManager.default.fileExists(atPath: rewrittenFile.path)
            ? try RewrittenMigration.parse(String(contentsOf: rewrittenFile, encoding: .utf8)) : []
        return Migrator(migrations: try Migration.load(from: migrationsFolder),
                        definitions: try Definition.load(from: directory), rewritten: rewritten, logger: logger)
    }

    /// The listed rewrite of `version` whose earlier text the database recorded as `recorded`, if any.
    func rewrite(of version: Int, recorded: String) -> RewrittenMigration? {
        rewritten.first { $0.version == version && $0.previousChecksum == recorded }
    }

    /// The project's own `sql/` (``Migration/defaultDirectory(environment:)``).
    public static func project(logger: Logger = Logger(label: "timebank.migrate")) throws -> Migrator {
        try load(from: Migration.defaultDirectory(), logger: logger)
    }

    /// What one run did.
    public struct Outcome: Sendable, Equatable {
        public var applied: [String]
        public var alreadyApplied: Int
        /// Versions recorded in the database that no file here has: the
        /// database was migrated by a newer release.
        public var unknownVersions: [Int]
        /// Applied migrations whose record was updated to their rewritten text.
        public var rewritten: [String] = []
        /// Whether the definitions were applied (they had changed, or a migration was applied).
        public var definitionsApplied = false
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

    /// True when the database's definitions are those of these files (and
    /// every migration is applied): nothing for ``migrate(_:)`` to do.
    public func isCurrent(_ connection: PostgresConnection) async throws -> Bool {
        guard try await pending(connection).isEmpty else { return false }
        return try await definitionsCurrent(connection)
    }

    /// True when the definitions last applied are these files (whatever the migrations).
    public func definitionsCurrent(_ connection: PostgresConnection) async throws -> Bool {
        try await connection.definitionsCurrent(self, checksums: connection.definitionChecksums(self))
    }

    static let bootstrapSQL = """
        CREATE SCHEMA IF NOT EXISTS meta;
        COMMENT ON SCHEMA meta IS 'Bookkeeping of the database itself: which migrations and definitions are applied.';
        CREATE TABLE IF NOT EXISTS meta.applied_migrations (
            version     integer PRIMARY KEY,        -- the file's number; applied once
            name        text NOT NULL,              -- the rest of the file name
            checksum    text NOT NULL,              -- SHA-256 of the file, hex: edits are refused
            applied_at  timestamptz NOT NULL DEFAULT now(),
            duration_ms integer NOT NULL CHECK (duration_ms >= 0)
        );
        COMMENT ON TABLE meta.applied_migrations IS 'One row per migration file applied, written in the same transaction as the file.';
        CREATE TABLE IF NOT EXISTS meta.applied_definitions (
            path        text PRIMARY KEY,           -- below sql/, e.g. functions/settlement/settle.sql
            checksum    text NOT NULL,              -- SHA-256 of the file as last applied, hex
            applied_at  timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON TABLE meta.applied_definitions IS 'The definition files (functions, views, privileges) as last applied: the whole set, rewritten in the transaction that applied it.';
        """
}

extension PostgresConnection {
    fileprivate func run(_ migrator: Migrator) throws -> Migrator.Outcome {
        try query("SELECT pg_advisory_lock($1)", [Migrator.advisoryLockKey])
        defer { _ = try? query("SELECT pg_advisory_unlock($1)", [Migrator.advisoryLockKey]) }
        try executeScript(Migrator.bootstrapSQL)

        let applied = try appliedChecksums()
        let checksums = try checksumsOf(migrator.migrations.map { (String($0.version), $0.sql) })
        var outcome = Migrator.Outcome(applied: [], alreadyApplied: 0, unknownVersions: [])
        let known = Set(migrator.migrations.map(\.version))
        outcome.unknownVersions = applied.keys.filter { !known.contains($0) }.sorted()
        if !outcome.unknownVersions.isEmpty {
            migrator.logger.warning("the database has migrations this release does not know", metadata: [
                "versions": "\(outcome.unknownVersions)",
            ])
        }
        var pending: [(migration: Migration, checksum: String)] = []
        for migration in migrator.migrations {
            let checksum = checksums[String(migration.version)]!
            if let recorded = applied[migration.version] {
                if recorded != checksum {
                    try acceptRewrite(of: migration, recorded: recorded, checksum: checksum, migrator)
                    outcome.rewritten.append(migration.fileName)
                }
                outcome.alreadyApplied += 1
            } else {
                pending.append((migration, checksum))
            }
        }
        // A database a newer release migrated keeps that release's definitions: an older
        // `timebank migrate` (a rolled-back deploy) must not put its own back.
        let newer = !outcome.unknownVersions.isEmpty
        if newer && !migrator.definitions.isEmpty {
            migrator.logger.warning("leaving the definitions of the newer release that migrated the database")
        }
        let definitionChecksums = try definitionChecksums(migrator)
        let definitionsStale = try !migrator.definitions.isEmpty && !newer && !definitionsCurrent(migrator, checksums: definitionChecksums)
        let applyDefinitions = !migrator.definitions.isEmpty && !newer && (!pending.isEmpty || definitionsStale)
        guard !pending.isEmpty || applyDefinitions else { return outcome }
        let toApply = pending

        // One transaction for the whole upgrade: the pending migrations, then the definitions.
        // It applies whole or not at all, and no session ever sees new tables beside old
        // functions, or a function a migration dropped and the definitions did not yet restore.
        try retryingLockConflicts(migrator) {
            try transaction { connection in
                try connection.query("SELECT set_config('lock_timeout', $1, true)", ["\(migrator.lockTimeout.wholeMilliseconds)ms"])
                for (migration, checksum) in toApply { try connection.apply(migration, checksum: checksum) }
                if applyDefinitions { try connection.applyDefinitionsInTransaction(migrator, checksums: definitionChecksums) }
            }
        }
        for (migration, _) in pending {
            migrator.logger.info("applied migration", metadata: ["file": "\(migration.fileName)"])
            outcome.applied.append(migration.fileName)
        }
        if applyDefinitions {
            migrator.logger.info("applied the definitions", metadata: ["files": "\(migrator.definitions.count)"])
            outcome.definitionsApplied = true
        }
        return outcome
    }

    /// Applies one migration in the open transaction, with its record.
    private func apply(_ migration: Migration, checksum: String) throws {
        let started = ContinuousClock.now
        do {
            try executeScript(migration.sql)
            try query(
                "INSERT INTO meta.applied_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)",
                [migration.version, migration.name, checksum, started.duration(to: .now).wholeMilliseconds])
        } catch let error as PostgresError where !error.isLockConflict {
            throw MigrationError(kind: .failed, file: migration.fileName, message: error.description)
        }
    }

    /// The upgrade waits at most `lockTimeout` for each lock (the tables it
    /// alters or re-creates triggers on are busy: writers queue behind a
    /// waiting lock), then gives up, rolls back and tries again, a few times.
    private func retryingLockConflicts(_ migrator: Migrator, _ body: () throws -> Void) throws {
        var attempt = 1
        while true {
            do {
                return try body()
            } catch let error as PostgresError where error.isLockConflict && attempt < migrator.lockAttempts {
                migrator.logger.warning("migration waited too long for a lock; rolled back, trying again", metadata: [
                    "attempt": "\(attempt)", "error": "\(error.message)",
                ])
                usleep(UInt32(min(attempt, 5)) * 1_000_000)
                attempt += 1
            } catch let error as PostgresError where error.isLockConflict {
                throw MigrationError(kind: .failed, file: "sql/",
                                     message: "gave up after \(attempt) attempts to take the locks it needs: \(error.description)")
            }
        }
    }

    /// An applied migration whose text differs: refused, unless
    /// `rewritten.txt` lists the recorded checksum (then the record follows the file).
    private func acceptRewrite(of migration: Migration, recorded: String, checksum: String, _ migrator: Migrator) throws {
        guard let rewrite = migrator.rewrite(of: migration.version, recorded: recorded) else {
            throw MigrationError(kind: .checksumMismatch, file: migration.fileName,
                                 message: "recorded \(recorded.prefix(12))..., file now \(checksum.prefix(12))...")
        }
        try query("UPDATE meta.applied_migrations SET checksum = $2 WHERE version = $1", [migration.version, checksum])
        migrator.logger.info("migration's record follows its rewritten text", metadata: [
            "file": "\(migration.fileName)", "reason": "\(rewrite.reason)",
        ])
    }

    fileprivate func pendingMigrations(_ migrator: Migrator) throws -> [Migration] {
        let exists = try query("SELECT to_regclass('meta.applied_migrations') IS NOT NULL AS present")
        guard try exists[0].decode("present", as: Bool.self) else { return migrator.migrations }
        let applied = try appliedChecksums()
        let checksums = try checksumsOf(migrator.migrations.map { (String($0.version), $0.sql) })
        var pending: [Migration] = []
        for migration in migrator.migrations {
            guard let recorded = applied[migration.version] else {
                pending.append(migration)
                continue
            }
            let current = checksums[String(migration.version)]!
            if recorded != current {
                guard migrator.rewrite(of: migration.version, recorded: recorded) != nil else {
                    throw MigrationError(kind: .checksumMismatch, file: migration.fileName, message: "applied file differs")
                }
                pending.append(migration)  // its record is updated by the next run
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

    /// SHA-256 of each text, by name, computed by the server (PostgreSQL
    /// 11+), which spares a crypto dependency for one hash per file.
    func checksumsOf(_ files: [(name: String, text: String)]) throws -> [String: String] {
        guard !files.isEmpty else { return [:] }
        let rows = try query(
            "SELECT n AS name, encode(sha256(convert_to(t, 'UTF8')), 'hex') AS checksum FROM unnest($1::text[], $2::text[]) AS f(n, t)",
            [files.map(\.name), files.map(\.text)])
        var checksums: [String: String] = [:]
        for row in rows { checksums[try row.decode("name")] = try row.decode("checksum", as: String.self) }
        return checksums
    }
}

extension Duration {
    var wholeMilliseconds: Int { Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000) }
}
