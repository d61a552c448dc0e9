import Foundation
import PostgresClient

/// R26 (with R24, R25): services, insurance and accident reports, for the claim tests.
extension Bank {
    /// A service of 60 minutes checked in and out by `volunteer`.
    func served(elder: Int64, volunteer: Int64) async throws -> Int64 {
        let service = try await publishedService(elder: elder, minutes: 60)
        try await completed("api.book_service($1, $2)", [service, volunteer])
        try await travel(service: service, minutes: 61)
        try await completed("api.check_in($1, $2)", [service, volunteer])
        try await travel(service: service, minutes: 60)
        try await completed("api.check_out($1, $2)", [service, volunteer])
        return service
    }

    func insure(_ volunteer: Int64) async throws {
        try await asStaff.completed(
            "api.confirm_insurance('city-desk', $1, 'Chaoyang Volunteers Association', 'PICC-1', current_date - 30, current_date + 30)",
            [volunteer])
    }

    /// Reports an accident `minutesAfterCheckIn` after the service's check-in.
    func reportAccident(_ service: Int64, _ volunteer: Int64, minutesAfterCheckIn: Int) async throws -> Bank.Outcome {
        let checkedIn = try await owner.query("SELECT coalesce(checked_in_at, starts_at) AS t FROM bank.service WHERE id = $1", [service])[0]
            .decode("t", as: Date.self)
        let at = min(checkedIn.addingTimeInterval(Double(minutesAfterCheckIn * 60)), Date().addingTimeInterval(-1))
        let request = try await submit(
            "api.report_accident($1, $2, $3, 'Chaoyang Road 12, stairwell', 'slipped on the stairs', ARRAY['doc:x-ray-771'])",
            [service, volunteer, at])
        return try await outcome(request)
    }
}
