import Foundation

/// One numbered migration (`sql/migrations/NNNN_name.sql`): plain SQL that
/// shapes or moves data, applied once, in order, in a transaction (so
/// `psql -1 -f sql/migrations/0001_....sql` applies it the same way).
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// The file name it came from, for messages.
    public var fileName: String { String(format: "%04d_%@.sql", version, name) }
}

/// Errors of ``Migrator``, each naming the file concerned.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// An applied migration's file changed since it was applied.
        case checksumMismatch
        /// A file's name is not `NNNN_name.sql`, or two files share a number.
        case badFileName
        /// The SQL of a migration failed; nothing of it was applied.
        case failed
        /// No migrations directory could be found.
        case sourceMissing
        /// A function, view or trigger is in the database that no definition file defines.
        case leftoverDefinition
    }

    public var kind: Kind
    public var file: String
    public var message: String

    public var description: String {
        switch kind {
        case .checksumMismatch:
            return "migration \(file) was changed after it was applied (\(message)); add a new migration instead of editing an applied one (a function or view changes in sql/functions or sql/views instead)"
        case .badFileName: return "migration file \(file): \(message)"
        case .failed: return "migration \(file) failed and was rolled back: \(message)"
        case .sourceMissing: return "no migrations found: \(message)"
        case .leftoverDefinition:
            return "no file of sql/functions or sql/views defines \(message) any more: drop it in a numbered migration (without CASCADE), or restore its definition; see sql/README.md"
        }
    }
}

extension Migration {
    /// Every `NNNN_name.sql` in `directory`, sorted by number.
    public static func load(from directory: URL) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationError(kind: .sourceMissing, file: directory.path, message: "cannot list \(directory.path)")
        }
        var migrations: [Migration] = []
        for fileName in names.sorted() where fileName.hasSuffix(".sql") {
            let stem = fileName.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
                throw MigrationError(kind: .badFileName, file: fileName, message: "expected NNNN_name.sql")
            }
            if migrations.contains(where: { $0.version == version }) {
                throw MigrationError(kind: .badFileName, file: fileName, message: "number \(version) is used twice")
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(fileName), encoding: .utf8)
            migrations.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        return migrations.sorted { $0.version < $1.version }
    }

    /// The project's `sql/` directory (holding `migrations/`, `functions/`,
    /// `views/`, `privileges/`): `TIMEBANK_SQL_DIR`, else `sql/` in the
    /// current directory or a parent, else next to the executable's parents
    /// (a build under `.build/` finds the checkout's `sql/`), else the
    /// installed copy in `/usr/share/timebank/sql`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let configured = environment["TIMEBANK_SQL_DIR"], !configured.isEmpty {
            return URL(fileURLWithPath: configured)
        }
        let starts = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
            URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent(),
        ]
        for start in starts {
            var directory = start.standardizedFileURL
            while true {
                let candidate = directory.appendingPathComponent("sql")
                let marker = candidate.appendingPathComponent("migrations/0001_schemas_and_roles.sql")
                if FileManager.default.fileExists(atPath: marker.path) { return candidate }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        let installed = URL(fileURLWithPath: "/usr/share/timebank/sql")
        if FileManager.default.fileExists(atPath: installed.path) { return installed }
        throw MigrationError(kind: .sourceMissing, file: "sql/", message: "set TIMEBANK_SQL_DIR or run from the checkout")
    }
}
