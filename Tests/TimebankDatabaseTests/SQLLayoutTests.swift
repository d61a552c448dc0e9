import Foundation
import TimebankDatabase
import Testing

/// Issue 14: one current definition of everything that holds no data, and
/// none in the migrations (sql/README.md).
@Suite struct SQLLayoutTests {
    nonisolated(unsafe) static let definitionPattern = #/CREATE\s+OR\s+REPLACE\s+(FUNCTION|VIEW|TRIGGER)\s+([A-Za-z_][A-Za-z0-9_.]*)(\s*\(([^)]*)\))?(?:[^;]*?\bON\s+([A-Za-z_.]+))?/#

    @Test func everyFunctionViewAndTriggerIsDefinedOnceOutsideTheMigrations() throws {
        let migrator = try Migrator.project()
        var seen: [String: String] = [:]
        var duplicates: [String] = []
        for definition in migrator.definitions where !definition.path.hasPrefix("privileges/") {
            for match in definition.sql.matches(of: Self.definitionPattern.ignoresCase()) {
                let kind = match.output.1.uppercased()
                var name = "\(kind) \(match.output.2.lowercased())"
                if kind == "FUNCTION" { name += "(\((match.output.4 ?? "").lowercased()))" }
                if kind == "TRIGGER" { name += " ON \((match.output.5 ?? "").lowercased())" }
                if let earlier = seen[name] { duplicates.append("\(name): \(earlier) and \(definition.path)") }
                seen[name] = definition.path
            }
        }
        #expect(duplicates.isEmpty, "defined twice: \(duplicates)")
        #expect(seen.keys.contains { $0.hasPrefix("FUNCTION bank.settlement_settle(") })
        #expect(seen.count > 150)

        for migration in migrator.migrations {
            let code = migration.sql.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }.joined(separator: "\n")
            let creates = code.matches(of: #/CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|VIEW|TRIGGER)\b/#.ignoresCase())
            #expect(creates.isEmpty, "\(migration.fileName) defines a function, view or trigger: it belongs in sql/functions or sql/views")
        }
    }
}
