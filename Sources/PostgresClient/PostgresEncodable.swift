import Foundation

/// How one parameter travels to the server. Text is the PostgreSQL input
/// syntax of the parameter's type; binary is used for `bytea` only, so that
/// bytes need no escaping.
public enum PostgresBinding: Sendable, Equatable {
    case null
    case text(String)
    case binary([UInt8])
}

/// A Swift value that can be bound to a `$n` parameter.
///
/// The parameter is sent with the type ``postgresType`` (so `SELECT $1`
/// returns what was bound), except `String`, which is sent as `unknown` and
/// takes the type the statement expects, as a quoted literal would: that is
/// what lets a `String` fill a `uuid`, an enum or a `date` parameter.
public protocol PostgresEncodable: Sendable {
    static var postgresType: PostgresType { get }
    func postgresBinding() throws -> PostgresBinding
}

extension PostgresEncodable {
    /// This value as an element of an array literal: nil for NULL.
    func postgresArrayElementText() throws -> String? {
        switch try postgresBinding() {
        case .null: return nil
        case .text(let text): return text
        case .binary(let bytes): return ByteaHex.encode(bytes)
        }
    }
}

extension String: PostgresEncodable {
    public static var postgresType: PostgresType { .unknown }
    public func postgresBinding() -> PostgresBinding { .text(self) }
}

extension Substring: PostgresEncodable {
    public static var postgresType: PostgresType { .unknown }
    public func postgresBinding() -> PostgresBinding { .text(String(self)) }
}

extension Int: PostgresEncodable {
    public static var postgresType: PostgresType { .int8 }
    public func postgresBinding() -> PostgresBinding { .text(String(self)) }
}

extension Int64: PostgresEncodable {
    public static var postgresType: PostgresType { .int8 }
    public func postgresBinding() -> PostgresBinding { .text(String(self)) }
}

extension Int32: PostgresEncodable {
    public static var postgresType: PostgresType { .int4 }
    public func postgresBinding() -> PostgresBinding { .text(String(self)) }
}

extension Int16: PostgresEncodable {
    public static var postgresType: PostgresType { .int2 }
    public func postgresBinding() -> PostgresBinding { .text(String(self)) }
}

extension Double: PostgresEncodable {
    public static var postgresType: PostgresType { .float8 }
    public func postgresBinding() -> PostgresBinding { .text(Self.postgresText(self)) }

    static func postgresText(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        // Swift prints the shortest text that reads back to the same Double.
        return "\(value)"
    }
}

extension Float: PostgresEncodable {
    public static var postgresType: PostgresType { .float4 }
    public func postgresBinding() -> PostgresBinding { .text(Double.postgresText(Double(self))) }
}

extension Bool: PostgresEncodable {
    public static var postgresType: PostgresType { .bool }
    public func postgresBinding() -> PostgresBinding { .text(self ? "t" : "f") }
}

extension Date: PostgresEncodable {
    public static var postgresType: PostgresType { .timestamptz }
    public func postgresBinding() throws -> PostgresBinding { .text(try TimestampText.format(self)) }
}

/// An `interval` of whole microseconds (PostgreSQL's precision; finer
/// parts are dropped, toward zero), so SQL adds it to a timestamp directly:
/// `now() + $1::interval`.
extension Duration: PostgresEncodable {
    public static var postgresType: PostgresType { .interval }
    public func postgresBinding() -> PostgresBinding {
        let (seconds, attoseconds) = components
        let microseconds = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        let magnitude = microseconds.magnitude
        let fraction = String(magnitude % 1_000_000)
        return .text("\(microseconds < 0 ? "-" : "")\(magnitude / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count) + fraction) seconds")
    }
}

extension UUID: PostgresEncodable {
    public static var postgresType: PostgresType { .uuid }
    public func postgresBinding() -> PostgresBinding { .text(uuidString) }
}

extension Array: PostgresEncodable where Element: PostgresEncodable {
    public static var postgresType: PostgresType {
        if Element.self == UInt8.self { return .bytea }
        return PostgresType.arrayOf[Element.postgresType.oid] ?? PostgresType(oid: 0, name: "array of \(Element.self)")
    }

    public func postgresBinding() throws -> PostgresBinding {
        // [UInt8] is bytea, not an array of numbers.
        // (Checked by type, not with `as?`: an empty [Int] casts to [UInt8].)
        if Element.self == UInt8.self { return .binary(self as! [UInt8]) }
        guard PostgresType.arrayOf[Element.postgresType.oid] != nil else {
            throw PostgresError(.encoding, message: "arrays of \(Element.self) are not supported (no PostgreSQL array type for \(Element.postgresType))")
        }
        return .text(try ArrayLiteral.format(map { try $0.postgresArrayElementText() }))
    }
}

extension UInt8: PostgresEncodable {
    // Only so that [UInt8] can be bytea; a lone UInt8 binds as smallint.
    public static var postgresType: PostgresType { .int2 }
    public func postgresBinding() -> PostgresBinding { .text(String(self)) }
}

extension Data: PostgresEncodable {
    public static var postgresType: PostgresType { .bytea }
    public func postgresBinding() -> PostgresBinding { .binary([UInt8](self)) }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresType: PostgresType { Wrapped.postgresType }
    public func postgresBinding() throws -> PostgresBinding {
        switch self {
        case .none: return .null
        case .some(let value): return try value.postgresBinding()
        }
    }
}

/// A `Codable` value stored as `jsonb`.
///
///     try conn.execute("INSERT INTO t (args) VALUES ($1)", [PostgresJSON(args)])
///     let args = try row.decode("args", as: PostgresJSON<Args>.self).value
public struct PostgresJSON<Value: Codable & Sendable>: PostgresEncodable, Sendable {
    public var value: Value
    public init(_ value: Value) { self.value = value }

    public static var postgresType: PostgresType { .jsonb }

    public func postgresBinding() throws -> PostgresBinding {
        do {
            let data = try JSONEncoder.postgres.encode(value)
            return .text(String(decoding: data, as: UTF8.self))
        } catch {
            throw PostgresError(.encoding, message: "cannot encode \(Value.self) as JSON: \(error)")
        }
    }
}

extension JSONEncoder {
    static var postgres: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

extension JSONDecoder {
    static var postgres: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
