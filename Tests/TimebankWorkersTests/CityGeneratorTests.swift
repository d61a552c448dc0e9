import Foundation
import PostgresClient
import TestSupport
import Testing
import TimebankOperations

/// Issue 18, item 4: the city generator's history is what the bank would
/// have written: the counts its scale asks for, spread over its months,
/// and `ledger verify` (every invariant L1-L12, R6, R16, R19) clean.
@Suite struct CityGeneratorTests {
    @Test func aCitysHistoryOfThreeMonthsHasItsCountsItsSpreadAndVerifiesClean() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            let scale = CityGenerator.Scale(months: 3, services: 2000)
            let counts = try await CityGenerator.generate(connection, scale)
            #expect(counts.services == 2000)
            #expect(counts.people == scale.elders + scale.volunteers)
            #expect(counts.events == 5 * 2000, "R5: five statuses per service")
            // Per service a hold, a payment and a credit; a grant per elder and month;
            // a gift and a donation a month (from the second) per tenth volunteer each.
            let givers = (scale.volunteers + 9) / 10, donors = (scale.volunteers + 4) / 10
            #expect(counts.transfers == 3 * 2000 + 3 * scale.elders + 2 * (givers + donors))
            #expect(counts.messages >= 5 * 2000 + 2 * givers, "five per service, one per gift, one per milestone")
            #expect(counts.attempts == counts.messages, "each message delivered once")
            #expect(counts.jobs > 0, "the last week's finished jobs")
            let spread = try await connection.query("""
                SELECT count(DISTINCT date_trunc('month', created_at AT TIME ZONE 'Asia/Shanghai'))::int AS months,
                       (max(created_at) < (bank.local_today()::timestamp AT TIME ZONE 'Asia/Shanghai')) AS past,
                       (min(created_at) >= (bank.local_today()::timestamp AT TIME ZONE 'Asia/Shanghai') - interval '3 months') AS within,
                       (SELECT count(*) FROM bank.service
                         WHERE starts_at < (bank.local_today()::timestamp AT TIME ZONE 'Asia/Shanghai') - interval '2 months')::int AS first_month
                  FROM bank.transfer
                """)[0]
            #expect(try spread.decode("months", as: Int.self) >= 3, "the transfers fall in every month of the three")
            #expect(try spread.decode("past", as: Bool.self), "all history is before today")
            #expect(try spread.decode("within", as: Bool.self), "and within its three months")
            #expect(try spread.decode("first_month", as: Int.self) > 400, "about a third of the services start in the first month")
            let settled = try await connection.query("SELECT count(*)::int AS n FROM bank.service WHERE settled_at IS NOT NULL")[0]
            #expect(try settled.decode("n", as: Int.self) == 2000)
            #expect(try await LedgerVerifier.problems(connection) == [])
            await connection.close()
        }
    }
}
