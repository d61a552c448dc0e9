import DevCluster
import Foundation
import TestSupport
import TimebankOperations
import Testing

/// docs/api.md is `timebank api --markdown` of a freshly migrated database:
/// a comment, signature or grant changed without regenerating it fails here.
@Suite struct APIDocumentTests {
    /// The first line (1-based) where two texts differ, and the generated one's line there.
    static func firstDifference(_ committed: String, _ generated: String) -> (line: Int, generated: String) {
        let old = committed.split(separator: "\n", omittingEmptySubsequences: false)
        let new = generated.split(separator: "\n", omittingEmptySubsequences: false)
        let index = zip(old, new).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(old.count, new.count)
        return (index + 1, index < new.count ? String(new[index]) : "(end)")
    }

    @Test func theCommittedAPIDocumentIsWhatTheCatalogSays() async throws {
        try await TestDatabase.with { database in
            let timebank = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("timebank").path
            let generated = try await ChildProcess.run(timebank, ["api", "--markdown", "--database-url", database.settings.conninfoWithDatabase])
            #expect(generated.status == 0, "\(generated.output)")
            #expect(generated.output.contains("## api.balance"), "\(generated.output.prefix(500))")
            let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let committed = (try? String(contentsOf: checkout.appendingPathComponent("docs/api.md"), encoding: .utf8)) ?? ""
            // Not #expect(committed == generated): that would print both documents whole.
            let same = committed == generated.output
            let difference = Self.firstDifference(committed, generated.output)
            #expect(same, "docs/api.md differs from the catalog at line \(difference.line) (now: \(difference.generated)); regenerate it: \(APIDocument.regenerate)")
        }
    }
}
