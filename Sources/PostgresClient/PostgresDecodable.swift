import CLibPQ
import Foundation

/// A Swift type a result value can be decoded as. Each conformance accepts
/// the PostgreSQL types that fit it and refuses the others with an error that
/// names the column and both types.
public protocol PostgresDecodable: Sendable {
    static func decode(from cell: PostgresCell) throws -> Self
}

extension Int: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Int {
        let bytes = try cell.nonNull(Int.self)
        guard [PostgresType.int8.oid, PostgresType.int4.oid, PostgresType.int2.oid, PostgresType.oid.oid].contains(cell.type.oid) else {
            throw cell.mismatch(Int.self)
        }
        guard let value = parseInteger(bytes) else { throw cell.malformed(Int.self) }
        return value
    }

    static func parseInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0
        var negative = false
        if bytes.first == UInt8(ascii: "-") { negative = true; index = 1 }
        guard index < bytes.count else { return nil }
        var value = 0
        while index < bytes.count {
            let digit = Int(bytes[index]) - 48
            guard digit >= 0, digit <= 9 else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = next
            index += 1
        }
        return value
    }
}

extension Int64: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Int64 { Int64(try Int.decode(from: cell)) }
}

extension Int32: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Int32 {
        let value = try Int.decode(from: cell)
        guard let narrowed = Int32(exactly: value) else { throw cell.malformed(Int32.self) }
        return narrowed
    }
}

extension Int16: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Int16 {
        let value = try Int.decode(from: cell)
        guard let narrowed = Int16(exactly: value) else { throw cell.malformed(Int16.self) }
        return narrowed
    }
}

extension Double: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Double {
        let bytes = try cell.nonNull(Double.self)
        let fitting: [Oid] = [PostgresType.float8.oid, PostgresType.float4.oid, PostgresType.numeric.oid,
                              PostgresType.int8.oid, PostgresType.int4.oid, PostgresType.int2.oid]
        guard fitting.contains(cell.type.oid) else { throw cell.mismatch(Double.self) }
        guard let value = Double(String(decoding: bytes, as: UTF8.self)) else { throw cell.malformed(Double.self) }
        return value
    }
}

extension Float: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Float { Float(try Double.decode(from: cell)) }
}

extension Bool: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Bool {
        let bytes = try cell.nonNull(Bool.self)
        guard cell.type == .bool else { throw cell.mismatch(Bool.self) }
        switch bytes.first {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: throw cell.malformed(Bool.self)
        }
    }
}

extension String: PostgresDecodable {
    /// Text-like types, JSON as text, and types the layer does not know
    /// (enums, domains over text, extension types), whose text is all there is.
    public static func decode(from cell: PostgresCell) throws -> String {
        let bytes = try cell.nonNull(String.self)
        let textual: [Oid] = [PostgresType.text.oid, PostgresType.varchar.oid, PostgresType.bpchar.oid,
                              PostgresType.name.oid, PostgresType.unknown.oid, PostgresType.json.oid,
                              PostgresType.jsonb.oid]
        guard textual.contains(cell.type.oid) || PostgresType.known[cell.type.oid] == nil else {
            throw cell.mismatch(String.self)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Date: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Date {
        let bytes = try cell.nonNull(Date.self)
        guard [PostgresType.timestamptz.oid, PostgresType.timestamp.oid, PostgresType.date.oid].contains(cell.type.oid) else {
            throw cell.mismatch(Date.self)
        }
        guard let date = TimestampText.parse(bytes) else { throw cell.malformed(Date.self) }
        return date
    }
}

extension UUID: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> UUID {
        let bytes = try cell.nonNull(UUID.self)
        guard cell.type == .uuid else { throw cell.mismatch(UUID.self) }
        guard let uuid = UUID(uuidString: String(decoding: bytes, as: UTF8.self)) else { throw cell.malformed(UUID.self) }
        return uuid
    }
}

extension Data: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Data {
        Data(try [UInt8].decode(from: cell))
    }
}

extension UInt8: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> UInt8 {
        let value = try Int.decode(from: cell)
        guard let narrowed = UInt8(exactly: value) else { throw cell.malformed(UInt8.self) }
        return narrowed
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// `bytea` for `[UInt8]`; otherwise a one-dimensional array whose
    /// elements decode as `Element` (`[Int?]` for arrays holding NULLs).
    public static func decode(from cell: PostgresCell) throws -> [Element] {
        let bytes = try cell.nonNull([Element].self)
        if Element.self == UInt8.self {
            guard cell.type == .bytea else { throw cell.mismatch([UInt8].self) }
            guard let decoded = ByteaHex.decode(bytes) else { throw cell.malformed([UInt8].self) }
            return decoded as! [Element]
        }
        guard let elementType = PostgresType.elementOf[cell.type.oid] else { throw cell.mismatch([Element].self) }
        guard let texts = ArrayLiteral.parse(bytes) else { throw cell.malformed([Element].self) }
        return try texts.enumerated().map { index, text in
            let column = "\(cell.column)[\(index + 1)]"
            guard let text else {
                return try Element.decode(from: PostgresCell(bytes: nil, type: elementType, column: column))
            }
            return try text.withUnsafeBufferPointer { buffer in
                // An empty element still has a (non-nil) empty buffer.
                let nonNil = buffer.baseAddress == nil ? UnsafeBufferPointer(start: emptyByte, count: 0) : buffer
                return try Element.decode(from: PostgresCell(bytes: nonNil, type: elementType, column: column))
            }
        }
    }
}

private nonisolated(unsafe) let emptyByte = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Wrapped? {
        cell.isNull ? nil : try Wrapped.decode(from: cell)
    }
}

extension PostgresJSON: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> PostgresJSON<Value> {
        let bytes = try cell.nonNull(Value.self)
        guard cell.type == .jsonb || cell.type == .json else { throw cell.mismatch(PostgresJSON<Value>.self) }
        do {
            return PostgresJSON(try JSONDecoder.postgres.decode(Value.self, from: Data(bytes)))
        } catch {
            throw PostgresError(.decoding, message: "column \"\(cell.column)\" holds JSON that does not decode as \(Value.self): \(error)")
        }
    }
}
