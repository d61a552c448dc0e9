import Foundation

/// One file of current definitions: functions (and the triggers that call
/// them), views, privileges. Unlike a ``Migration`` it holds no data and is
/// not immutable: it says what the object is now, and the ``Migrator``
/// re-applies the whole set whenever any of it changed (see sql/README.md).
public struct Definition: Sendable, Equatable {
    /// The path below `sql/`, e.g. `functions/settlement/settle.sql`: its
    /// identity in `meta.applied_definitions`.
    public var path: String
    public var sql: String

    public init(path: String, sql: String) {
        self.path = path
        self.sql = sql
    }

    /// The folders of `sql/` that hold definitions, in the order they are
    /// applied: views may use functions, and the privileges name both.
    public static let folders = ["functions", "views", "privileges"]

    /// Every `.sql` file below the ``folders`` of `directory` (the `sql/`
    /// folder), each folder's files sorted by path.
    public static func load(from directory: URL) throws -> [Definition] {
        var definitions: [Definition] = []
        for folder in folders {
            let root = directory.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(atPath: root.path) else { continue }
            let paths = walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".sql") }.sorted()
            for relative in paths {
                let sql = try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
                definitions.append(Definition(path: "\(folder)/\(relative)", sql: sql))
            }
        }
        return definitions
    }
}

/// A numbered migration whose text was rewritten after databases applied
/// it, with the checksum of the text it replaced (`sql/migrations/rewritten.txt`).
/// A database that recorded that checksum is known to hold what the new
/// text makes; its record is updated instead of refused. Issue 14 rewrote
/// 0001-0020 once, when their functions moved to `sql/functions`.
public struct RewrittenMigration: Sendable, Equatable {
    public var version: Int
    public var previousChecksum: String
    public var reason: String

    public init(version: Int, previousChecksum: String, reason: String) {
        self.version = version
        self.previousChecksum = previousChecksum
        self.reason = reason
    }

    /// The lines of `rewritten.txt`: `NNNN <sha256 of the earlier text> <why>`; `#` starts a comment.
    public static func parse(_ text: String, file: String = "rewritten.txt") throws -> [RewrittenMigration] {
        var rewritten: [RewrittenMigration] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            if fields.isEmpty { continue }
            guard fields.count == 3, let version = Int(fields[0]), fields[1].count == 64,
                  fields[1].allSatisfy({ $0.isHexDigit }) else {
                throw MigrationError(kind: .badFileName, file: file,
                                     message: "line \(index + 1): expected NNNN <sha256> <reason>")
            }
            rewritten.append(RewrittenMigration(version: version, previousChecksum: fields[1].lowercased(),
                                                reason: String(fields[2])))
        }
        return rewritten
    }
}
