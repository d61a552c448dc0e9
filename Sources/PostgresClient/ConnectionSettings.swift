import CLibPQ
import Foundation

/// Where and how to connect, the libpq way.
///
/// ``conninfo`` is anything libpq's `dbname` parameter accepts with
/// `expand_dbname`: a `postgresql://` URI or a `key=value` string. An empty
/// conninfo lets libpq read the standard `PG*` environment variables
/// (`PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`, `PGSERVICE`...)
/// and `~/.pgpass` itself.
public struct ConnectionSettings: Sendable, CustomStringConvertible {
    public var conninfo: String
    /// Reported to the server as `application_name` (seen in `pg_stat_activity`).
    public var applicationName: String
    /// Seconds libpq waits for a connection before giving up.
    public var connectTimeoutSeconds: Int
    /// A database name that overrides the one in ``conninfo`` (libpq applies
    /// a later `dbname` keyword over the expanded conninfo).
    public var database: String?
    /// Named statements cached per session, or none (behind a transaction
    /// pooler): see ``PreparedStatements``.
    public var preparedStatements: PreparedStatements = .named
    /// Server settings for every session, sent at connect time (libpq's
    /// `options`, as `-c name=value`), so that a session that reconnects
    /// gets them again: e.g. `role` for a worker's database role. They
    /// replace any `options` the conninfo carries.
    public var runtimeParameters: [String: String] = [:]

    public init(conninfo: String, applicationName: String = "timebank", connectTimeoutSeconds: Int = 10) {
        self.conninfo = conninfo
        self.applicationName = applicationName
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }

    /// The variables libpq reads when no conninfo says otherwise.
    static let libpqVariables = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"]

    /// Settings from `DATABASE_URL`, else from the `PG*` variables, else nil
    /// (the caller then decides, e.g. the CLI starts the local cluster).
    public static func fromEnvironment(
        _ environment: [String: String], applicationName: String = "timebank"
    ) -> ConnectionSettings? {
        if let url = environment["DATABASE_URL"], !url.isEmpty {
            return ConnectionSettings(conninfo: url, applicationName: applicationName)
        }
        if libpqVariables.contains(where: { environment[$0].map { !$0.isEmpty } ?? false }) {
            return ConnectionSettings(conninfo: "", applicationName: applicationName)
        }
        return nil
    }

    /// The same settings pointed at another database on the same server.
    public func withDatabase(_ name: String) -> ConnectionSettings {
        var copy = self
        copy.database = name
        return copy
    }

    /// The same settings logging in as `user` (with `password`, if given):
    /// a URI's user and password are replaced, a key=value conninfo gets the
    /// keywords appended (libpq takes the last of a repeated keyword).
    public func withUser(_ user: String, password: String? = nil) -> ConnectionSettings {
        var copy = self
        if conninfo.hasPrefix("postgres://") || conninfo.hasPrefix("postgresql://"), var components = URLComponents(string: conninfo) {
            components.user = user
            components.password = password
            copy.conninfo = components.string ?? conninfo
        } else {
            func quoted(_ value: String) -> String {
                "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
            }
            copy.conninfo = conninfo + " user=" + quoted(user) + (password.map { " password=" + quoted($0) } ?? "")
        }
        return copy
    }

    /// The same settings with a server setting for every session.
    public func with(parameter name: String, _ value: String) -> ConnectionSettings {
        var copy = self
        copy.runtimeParameters[name] = value
        return copy
    }

    /// `runtimeParameters` as libpq's `options` value.
    var optionsValue: String? {
        guard !runtimeParameters.isEmpty else { return nil }
        func escaped(_ text: String) -> String {
            text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: " ", with: "\\ ")
        }
        return runtimeParameters.sorted { $0.key < $1.key }
            .map { "-c \(escaped($0.key))=\(escaped($0.value))" }
            .joined(separator: " ")
    }

    /// The conninfo with the ``database`` override folded in, for handing
    /// to another process as its `DATABASE_URL`.
    public var conninfoWithDatabase: String {
        guard let database else { return conninfo }
        if conninfo.hasPrefix("postgresql://") || conninfo.hasPrefix("postgres://") {
            // Query parameters override the URI's path in libpq.
            return conninfo + (conninfo.contains("?") ? "&" : "?") + "dbname=" + database
        }
        let quoted = database.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        return conninfo + (conninfo.isEmpty ? "" : " ") + "dbname='\(quoted)'"
    }

    /// The password given in the conninfo, if any, so that it can be
    /// removed from messages.
    var password: String? {
        parsedOptions()["password"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The conninfo as key=value pairs, password shown as `****`.
    public var redacted: String {
        let options = parsedOptions()
        if options.isEmpty { return conninfo.isEmpty ? "(from PG* environment)" : "(unparseable conninfo)" }
        var shown = options
        if let database { shown["dbname"] = database }
        return shown.keys.sorted().map { key in
            let value = key == "password" ? "****" : shown[key]!
            return "\(key)=\(value)"
        }.joined(separator: " ")
    }

    public var description: String { redacted }

    /// libpq's own parse of the conninfo, so that URIs and key=value strings
    /// are read exactly as libpq reads them.
    func parsedOptions() -> [String: String] {
        guard !conninfo.isEmpty else { return [:] }
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &error) else {
            if let error { PQfreemem(error) }
            return [:]
        }
        defer { PQconninfoFree(options) }
        var result: [String: String] = [:]
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val {
                result[String(cString: keyword)] = String(cString: value)
            }
            cursor += 1
        }
        return result
    }
}
