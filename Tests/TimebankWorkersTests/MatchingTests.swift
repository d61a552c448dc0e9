import Foundation
import PostgresClient
import TimebankWorkers
import Testing

extension BankSuites {
    /// R15 district items, R17 matching by distance.
    @Suite struct MatchingTests {
        @Test func r15ADemandNamesAnItemOfTheEldersDistrictOrACityWideOne() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(1)   // Chaoyang
                let chaoyang = try await bank.asStaff.completed("api.define_service_item('city-desk', '110105', 'assistance', '代购', 'shopping errands', 60)", [])["item_id"]!
                let haidian = try await bank.asStaff.completed("api.define_service_item('city-desk', '110108', 'assistance', '理发', 'haircut', 45)", [])["item_id"]!
                let city = try await bank.asStaff.completed("api.define_service_item('city-desk', NULL, 'anti_fraud', '防诈骗讲解', 'fraud talk', 30)", [])["item_id"]!
                try await bank.asStaff.expectRefusal("api.define_service_item('city-desk', '110105', 'assistance', '代购', NULL, 60)", [], rule: "R15", field: "name_zh")
                let publish = "api.publish_item_demand($1, $2, 'please', date_trunc('minute', now()) + interval '1 day', 39.92, 116.44)"
                try await bank.expectRefusal(publish, [elder, haidian], rule: "R15", field: "item_id")
                let own = try await bank.completed(publish, [elder, chaoyang])["service_id"]!
                let citywide = try await bank.completed(publish, [elder, city])["service_id"]!
                let rows = try await bank.owner.query("SELECT id, item_id, category_code, booked_minutes FROM bank.service ORDER BY id")
                #expect(try rows.map { try $0.decode("item_id", as: Int64.self) } == [chaoyang, city])
                #expect(try rows.map { try $0.decode("booked_minutes", as: Int.self) } == [60, 30])   // the items' default lengths
                #expect(try rows.map { try $0.decode("category_code", as: String.self) } == ["assistance", "anti_fraud"])
                _ = (own, citywide)
            }
        }

        @Test func r17VolunteersFindPublishedServicesNearThemNearestFirstWithoutTheEldersData() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(2)
                let volunteer = try await bank.registerVolunteer(3)
                let item = try await bank.asStaff.completed("api.define_service_item('city-desk', '110105', 'assistance', '陪诊', 'hospital escort', 60)", [])["item_id"]!
                func publish(_ hours: Int, _ latitude: Double, _ longitude: Double) async throws -> Int64 {
                    let service = try await bank.completed(
                        "api.publish_item_demand($1, $2, 'escort', date_trunc('minute', now()) + $3 * interval '1 hour', $4, $5)",
                        [elder, item, hours, latitude, longitude])["service_id"]!
                    try await bank.asStaff.completed("api.review_demand('city-desk', $1, true)", [service])
                    return service
                }
                let near = try await publish(5, 39.921, 116.443)     // ~0.3 km from the volunteer
                let farther = try await publish(8, 39.940, 116.460)  // ~2.7 km
                let far = try await publish(9, 40.100, 116.600)      // ~24 km
                let overlapping = try await publish(20, 39.922, 116.444)
                let busy = try await publish(20, 39.950, 116.470)    // the volunteer will book this one: same time as `overlapping`
                try await bank.completed("api.book_service($1, $2)", [busy, volunteer])

                let found = try await bank.client.query("SELECT * FROM api.find_services($1, 39.919, 116.441, 5)", [volunteer])
                #expect(try found.map { try $0.decode("service_id", as: Int64.self) } == [near, farther])
                #expect(!found.columns.contains { ["elder_id", "name", "national_id", "phone", "latitude", "longitude"].contains($0) })
                #expect(try found[0].decode("distance_km", as: Double.self) < 1)
                let wide = try await bank.client.query("SELECT service_id FROM api.find_services($1, 39.919, 116.441, 30)", [volunteer])
                #expect(try wide.map { try $0.decode("service_id", as: Int64.self) } == [near, farther, far])
                let window = try await bank.client.query("""
                    SELECT service_id FROM api.find_services($1, 39.919, 116.441, 30, 'assistance', now() + interval '6 hours', now() + interval '10 hours')
                    """, [volunteer])
                #expect(try window.map { try $0.decode("service_id", as: Int64.self) } == [farther, far])
                let otherCategory = try await bank.client.query("SELECT count(*) AS n FROM api.find_services($1, 39.919, 116.441, 30, 'legal_aid')", [volunteer])
                #expect(try otherCategory[0].decode("n", as: Int.self) == 0)
                let refused = try await #require(throws: PostgresError.self) {
                    try await bank.client.execute("SELECT * FROM api.find_services($1, 39.9, 116.4, 5)", [elder])
                }
                #expect(refused.message.hasPrefix("R17: ") && refused.detail == "field: volunteer_id")
                _ = overlapping
            }
        }
    }
}
