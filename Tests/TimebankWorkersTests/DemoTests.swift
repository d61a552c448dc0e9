import Foundation
import PostgresClient
import TimebankWorkers
import Testing

extension BankSuites {
    /// `timebank demo` runs the whole path on its own (no workers running:
    /// it starts its own) and ends with the ledger verified.
    @Suite struct DemoTests {
        @Test func theDemoWalksThePathAndTheLedgerVerifies() async throws {
            try await Bank.with(workers: false) { bank in
                final class Lines: @unchecked Sendable {
                    let lock = NSLock()
                    var all: [String] = []
                    func add(_ line: String) { lock.withLock { all.append(line) } }
                }
                let lines = Lines()
                try await Demo(settings: bank.database.settings, say: { lines.add($0) }).run()
                let output = lines.lock.withLock { lines.all.joined(separator: "\n") }
                #expect(output.contains("settled: 105 minutes"), "\(output)")
                #expect(output.contains("volunteer: 105 minutes available"))
                #expect(output.contains("elder: 495 minutes available"))
                #expect(!output.contains("BROKEN"))
            }
        }
    }
}
