import Foundation
import PostgresClient
import TimebankWorkers

/// Civil-affairs staff known to the database (`timebank staff`; issue 15,
/// finding 9): who may act through the staff desk's role (`timebank_staff`),
/// for which district (none: the whole city) and with which powers. Run by
/// an operator (the schema's owner): neither the residents' role nor the
/// staff role itself can add, change or list members. A member is never
/// deleted, only deactivated, so that every recorded act keeps naming it;
/// a code is never reused.
public enum StaffAdmin {
    /// Every power a member may hold (`bank.staff_member.powers`, 0024, 0026), with
    /// the acts it allows. `set_budget` and `import_registry` are city-level.
    public static let powers: KeyValuePairs<String, String> = [
        "set_budget": "R9: set a district's budget (city-level members only)",
        "grant": "R9, R10: grant coins to a special elder (the district's budget, or the public-welfare account)",
        "review": "R16: approve or reject a demand",
        "verify": "R8, R2: verify a relationship or a guardianship",
        "set_status": "R3, R22: suspend, reinstate or close an account",
        "confirm_insurance": "R25: confirm a volunteer's accident insurance",
        "register_institution": "R5: register an agent institution a street or township confirmed",
        "define_item": "R15: define a district's service item (a city-wide one: city-level members)",
        "import_registry": "R24: import Volunteer Beijing's feed (city-level members only)",
        "decide_dispute": "R19: decide a report that a service was not given",
        "dismiss_alert": "R21: dismiss a supervision alert",
        "confirm_fraud": "R22: confirm fraud (the dishonest list)",
        "read_personal_data": "R23: read a person's national ID and phone number (through the personal-data reader's login; each read recorded)",
    ]

    public struct Member: Sendable, Equatable {
        public var id: Int64
        public var code: String
        public var displayName: String?
        /// nil: city level.
        public var districtCode: String?
        public var powers: [String]
        public var active: Bool
        public var createdAt: Date
    }

    /// Adds a member; the table's constraints name a bad field (an unknown
    /// power, a city-level power for a district member, a code in use). Its id.
    @discardableResult
    public static func add(_ connection: PostgresConnection, code: String, districtCode: String?, powers: [String],
                           displayName: String? = nil) async throws -> Int64 {
        try await connection.query(
            """
            INSERT INTO bank.staff_member (code, display_name, district_code, powers)
            VALUES ($1, $2, $3, ARRAY(SELECT DISTINCT p FROM unnest($4::text[]) p ORDER BY p)) RETURNING id
            """, [code, displayName, districtCode, powers])[0].decode("id", as: Int64.self)
    }

    public static func list(_ connection: PostgresConnection, includeInactive: Bool = false) async throws -> [Member] {
        try await connection.query(
            """
            SELECT id, code, display_name, district_code, powers, active, created_at FROM bank.staff_member
             WHERE active OR $1::boolean ORDER BY district_code NULLS FIRST, code
            """, [includeInactive]
        ).map { row in
            Member(id: try row.decode("id"), code: try row.decode("code"), displayName: try row.decode("display_name"),
                   districtCode: try row.decode("district_code"), powers: try row.decode("powers"), active: try row.decode("active"),
                   createdAt: try row.decode("created_at"))
        }
    }

    public struct UnknownMember: Error, CustomStringConvertible {
        public var code: String
        public var description: String { "no active staff member has code \(code)" }
    }

    /// Deactivates a member: from now on every act under its code is refused;
    /// what it did stays recorded under its id.
    public static func deactivate(_ connection: PostgresConnection, code: String) async throws {
        let rows = try await connection.query(
            "UPDATE bank.staff_member SET active = false, deactivated_at = now() WHERE code = $1 AND active RETURNING id", [code])
        if rows.isEmpty { throw UnknownMember(code: code) }
    }
}
