import CLibPQ

/// One value of a result row, as the server's text, borrowed from the
/// result that owns it. Decoders read it; nothing keeps it.
public struct PostgresCell {
    /// The value's text; nil for SQL NULL.
    public let bytes: UnsafeBufferPointer<UInt8>?
    public let type: PostgresType
    // The column's name is only read for error messages, so it stays a
    // pointer into the result until then.
    private let columnName: UnsafePointer<CChar>?
    private let columnLabel: String?

    /// The column's name, for error messages.
    public var column: String { columnLabel ?? columnName.map { String(cString: $0) } ?? "?" }

    init(bytes: UnsafeBufferPointer<UInt8>?, type: PostgresType, columnName: UnsafePointer<CChar>) {
        self.bytes = bytes
        self.type = type
        self.columnName = columnName
        self.columnLabel = nil
    }

    public init(bytes: UnsafeBufferPointer<UInt8>?, type: PostgresType, column: String) {
        self.bytes = bytes
        self.type = type
        self.columnName = nil
        self.columnLabel = column
    }

    public var isNull: Bool { bytes == nil }

    /// The value's bytes, or a decoding error naming the column when it is
    /// NULL: a non-optional Swift type cannot hold NULL.
    public func nonNull<T>(_ swiftType: T.Type) throws -> UnsafeBufferPointer<UInt8> {
        guard let bytes else {
            throw PostgresError(.decoding, message: "column \"\(column)\" is NULL; decode it as \(T.self)? to allow NULL")
        }
        return bytes
    }

    /// The error for a value whose PostgreSQL type does not fit the Swift type.
    public func mismatch<T>(_ swiftType: T.Type) -> PostgresError {
        PostgresError(.decoding, message: "column \"\(column)\" is \(type), which does not decode as \(T.self)")
    }

    /// The error for a value of a fitting type whose text could not be read.
    public func malformed<T>(_ swiftType: T.Type) -> PostgresError {
        let shown = bytes.map { String(decoding: $0.prefix(40), as: UTF8.self) } ?? "NULL"
        return PostgresError(.decoding, message: "column \"\(column)\" (\(type)) holds \"\(shown)\", which is not a valid \(T.self)")
    }
}
