import Foundation
import PostgresClient
import TimebankWorkers
import Testing

extension BankSuites {
    /// `timebank demo` runs the whole path on its own (no workers running:
    /// it starts its own) and ends with the ledger verified.
    @Suite struct DemoTests {
        /// On a development database (the tests' are) the demo moves the development clock
        /// (issue 19); on any other it backdates the service with the operator's session.
        @Test(arguments: [true, false]) func theDemoWalksThePathAndTheLedgerVerifies(development: Bool) async throws {
            try await Bank.with(workers: false) { bank in
                if !development { try await bank.owner.execute("DELETE FROM bank.development_clock") }
                let output = try await bank.runDemo()
                #expect(output.contains(development ? "the development clock moves" : "demo only: moving the service into the past"), "\(output)")
                #expect(output.contains("settled: 225 minutes"), "\(output)")
                #expect(output.contains("elder: 375 minutes available"))
                #expect(output.contains("star level 1 reached"))
                #expect(output.contains("the 10,000-coin milestone reached"))
                #expect(output.contains("mother: 60 minutes available"))
                #expect(output.contains("volunteer: 105 minutes available"))   // 225 - 60 given - 60 donated
                #expect(output.contains("volunteer: 225 minutes earned by service"))
                #expect(!output.contains("BROKEN"))
                // The demo's lowered thresholds are put back.
                #expect(try await bank.owner.query("SELECT value FROM bank.setting WHERE name = 'star_1_hours'")[0].decode("value", as: Int.self) == 100)
            }
        }
    }
}
