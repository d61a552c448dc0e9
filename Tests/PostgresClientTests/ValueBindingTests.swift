import Foundation
import PostgresClient
import TestSupport
import Testing

/// Every Swift type the layer binds goes to the server and back unchanged,
/// and arrives there as the PostgreSQL type it should.
@Suite struct ValueBindingTests {
    struct Payload: Codable, Equatable, Sendable {
        var name: String
        var minutes: Int
        var tags: [String]
        var nested: [String: Double]
    }

    /// Binds `value` as $1, checks the server's type for it, decodes it back.
    /// (A String binds as `unknown`, so a bare `$1` needs a cast to text.)
    func roundTrip<T: PostgresEncodable & PostgresDecodable & Equatable>(
        _ connection: PostgresConnection, _ value: T, serverType: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let parameter = T.postgresType == .unknown ? "$1::text" : "$1"
        let rows = try await connection.query("SELECT \(parameter) AS value, pg_typeof(\(parameter))::text AS type", [value])
        #expect(try rows[0].decode("type", as: String.self) == serverType, sourceLocation: sourceLocation)
        #expect(try rows[0].decode("value", as: T.self) == value, sourceLocation: sourceLocation)
    }

    @Test func scalarsRoundTrip() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            for value in [0, 1, -1, Int.max, Int.min, 123_456_789] {
                try await roundTrip(connection, value, serverType: "bigint")
            }
            try await roundTrip(connection, Int64(-42), serverType: "bigint")
            try await roundTrip(connection, Int32.max, serverType: "integer")
            try await roundTrip(connection, Int16.min, serverType: "smallint")
            for value in [0.0, -0.5, 1e-300, 1.7976931348623157e308, Double.pi, Double.infinity, -Double.infinity] {
                try await roundTrip(connection, value, serverType: "double precision")
            }
            let nan = try await connection.query("SELECT $1 AS value", [Double.nan])
            #expect(try nan[0].decode("value", as: Double.self).isNaN)
            try await roundTrip(connection, Float(1.5), serverType: "real")
            try await roundTrip(connection, true, serverType: "boolean")
            try await roundTrip(connection, false, serverType: "boolean")
            for value in ["", "plain", "时间银行 · 志愿者", "quote ' and \" and \\ backslash", "line\nbreak\ttab", "emoji 👵🏻"] {
                try await roundTrip(connection, value, serverType: "text")
            }
            try await roundTrip(connection, UUID(), serverType: "uuid")
        }
    }

    @Test func datesKeepMicrosecondsAcrossZones() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let dates = [
                Date(timeIntervalSince1970: 0),
                Date(timeIntervalSince1970: 1_654_041_600.123456),  // 2022-06-01, the plan's start
                Date(timeIntervalSince1970: -1_000_000_000.5),       // before 1970
                Date(timeIntervalSince1970: 4_102_444_800.000001),   // 2100
            ]
            // The session zone changes the server's text (+08, +05:30...),
            // never the instant.
            for zone in ["UTC", "Asia/Shanghai", "Asia/Kolkata", "America/St_Johns"] {
                try await connection.executeScript("SET TimeZone = '\(zone)'")
                for date in dates {
                    let rows = try await connection.query("SELECT $1 AS value, pg_typeof($1)::text AS type", [date])
                    #expect(try rows[0].decode("type", as: String.self) == "timestamp with time zone")
                    let back = try rows[0].decode("value", as: Date.self)
                    #expect(abs(back.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_001, "\(zone) \(date)")
                }
            }
            try await connection.executeScript("SET TimeZone = 'Asia/Shanghai'")
            let fixed = try await connection.query("SELECT '2022-06-01 08:00:00+08'::timestamptz AS t, '2022-06-01'::date AS d")
            #expect(try fixed[0].decode("t", as: Date.self) == Date(timeIntervalSince1970: 1_654_041_600))
            #expect(try fixed[0].decode("d", as: Date.self) == Date(timeIntervalSince1970: 1_654_041_600))
        }
    }

    @Test func bytesTravelAsBytea() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            try await roundTrip(connection, [UInt8](), serverType: "bytea")
            try await roundTrip(connection, [0, 1, 2, 0, 255, 92, 39] as [UInt8], serverType: "bytea")
            try await roundTrip(connection, Data((0...255).map { UInt8($0) }), serverType: "bytea")
            let length = try await connection.query("SELECT length($1) AS n", [[UInt8](repeating: 0, count: 100_000)])
            #expect(try length[0].decode("n", as: Int.self) == 100_000)
        }
    }

    @Test func codableValuesTravelAsJSONB() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let payload = Payload(name: "王 \"老\" 师", minutes: 90, tags: ["a", "b"], nested: ["x": 1.5])
            let rows = try await connection.query(
                "SELECT $1 AS value, pg_typeof($1)::text AS type, $1->>'minutes' AS minutes", [PostgresJSON(payload)])
            #expect(try rows[0].decode("type", as: String.self) == "jsonb")
            #expect(try rows[0].decode("minutes", as: String.self) == "90")
            #expect(try rows[0].decode("value", as: PostgresJSON<Payload>.self).value == payload)
        }
    }

    /// A Duration is an interval of microseconds, so SQL adds it to a timestamp.
    @Test func durationsBindAsIntervals() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let cases: [(Duration, Int64)] = [
                (.zero, 0), (.milliseconds(1), 1000), (.seconds(30), 30_000_000), (.milliseconds(1500), 1_500_000),
                (.microseconds(-2_500_001), -2_500_001), (.seconds(-3), -3_000_000), (.seconds(86_400 * 400), 86_400 * 400 * 1_000_000),
                (.nanoseconds(1999), 1),
            ]
            for (duration, microseconds) in cases {
                let rows = try await connection.query(
                    "SELECT pg_typeof($1)::text AS type, (extract(epoch FROM $1::interval) * 1000000)::bigint AS us", [duration])
                #expect(try rows[0].decode("type", as: String.self) == "interval")
                #expect(try rows[0].decode("us", as: Int64.self) == microseconds, "\(duration)")
            }
            let later = try await connection.query(
                "SELECT timestamptz '2022-06-01 00:00:00+00' + $1::interval = timestamptz '2022-06-01 00:00:01.5+00' AS ok",
                [Duration.milliseconds(1500)])
            #expect(try later[0].decode("ok", as: Bool.self))
            let none = try await connection.query("SELECT $1::interval IS NULL AS n", [nil as Duration?])
            #expect(try none[0].decode("n", as: Bool.self))
        }
    }

    @Test func arraysRoundTrip() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            try await roundTrip(connection, [1, 2, 3], serverType: "bigint[]")
            try await roundTrip(connection, [Int](), serverType: "bigint[]")
            try await roundTrip(connection, [Int32(7)], serverType: "integer[]")
            try await roundTrip(connection, [1.5, -2.25], serverType: "double precision[]")
            try await roundTrip(connection, [true, false], serverType: "boolean[]")
            try await roundTrip(
                connection, ["a", "with,comma", "with \"quote\"", "back\\slash", "NULL", "", "{braces}", " spaced "],
                serverType: "text[]")
            try await roundTrip(connection, [UUID(), UUID()], serverType: "uuid[]")
            try await roundTrip(connection, [Date(timeIntervalSince1970: 1.5), Date(timeIntervalSince1970: 1_700_000_000)], serverType: "timestamp with time zone[]")
            try await roundTrip(connection, [[1, 2] as [UInt8], [], [0, 255]], serverType: "bytea[]")
            try await roundTrip(connection, [1, nil, 3] as [Int?], serverType: "bigint[]")
            try await roundTrip(connection, [nil, "x"] as [String?], serverType: "text[]")
            let unnested = try await connection.query("SELECT count(*) AS n FROM unnest($1::text[]) AS t(v) WHERE v IS NULL", [["a", nil, nil] as [String?]])
            #expect(try unnested[0].decode("n", as: Int.self) == 2)
        }
    }

    @Test func optionalsBindAndDecodeNull() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            let rows = try await connection.query(
                "SELECT $1 IS NULL AS a, $2::text IS NULL AS b, $1 AS value, pg_typeof($1)::text AS type",
                [nil as Int?, "x" as String?])
            #expect(try rows[0].decode("a", as: Bool.self))
            #expect(try !rows[0].decode("b", as: Bool.self))
            #expect(try rows[0].decode("type", as: String.self) == "bigint")
            #expect(try rows[0].decode("value", as: Int?.self) == nil)
            #expect(rows[0].isNull("value"))
            let some = try await connection.query("SELECT $1 AS value", [42 as Int?])
            #expect(try some[0].decode("value", as: Int?.self) == 42)
        }
    }

    @Test func stringsFillTypedParameters() async throws {
        // A String binds as `unknown`, so the statement decides its type.
        try await TestDatabase.with(migrated: false) { database in
            let connection = try await database.connect()
            try await connection.executeScript("CREATE TABLE t (id uuid, day date, n integer)")
            let id = UUID()
            try await connection.execute("INSERT INTO t VALUES ($1, $2, $3)", [id.uuidString, "2022-06-01", 5])
            let rows = try await connection.query("SELECT id, n FROM t WHERE id = $1 AND day = $2", [id.uuidString, "2022-06-01"])
            #expect(try rows[0].decode("id", as: UUID.self) == id)
            #expect(try rows[0].decode("n", as: Int.self) == 5)
            #expect(rows.affectedRows == 1)
        }
    }
}
