import CLibPQ

/// Parameters flattened for libpq: every value's bytes in one buffer.
/// The C arrays libpq takes (value pointers, lengths, formats) are built on
/// the stack inside ``withCArrays(_:)``, so every pointer outlives the
/// libpq call that reads it, and a call allocates three arrays, not six.
struct EncodedParameters {
    private(set) var types: [Oid] = []
    private var storage: [UInt8] = []
    /// Per parameter: where its bytes start in `storage` (-1 for NULL), and
    /// its length when sent in binary, or -1 for text (NUL-terminated).
    private var spans: [(offset: Int32, binaryLength: Int32)] = []

    var count: Int { types.count }

    init(_ parameters: [any PostgresEncodable]) throws {
        types.reserveCapacity(parameters.count)
        spans.reserveCapacity(parameters.count)
        storage.reserveCapacity(parameters.count * 16)
        for (index, parameter) in parameters.enumerated() {
            let binding: PostgresBinding
            do {
                binding = try parameter.postgresBinding()
            } catch var error as PostgresError {
                error.message = "$\(index + 1): " + error.message
                throw error
            }
            types.append(type(of: parameter).postgresType.oid)
            switch binding {
            case .null:
                spans.append((-1, -1))
            case .text(let text):
                spans.append((Int32(storage.count), -1))
                storage.append(contentsOf: text.utf8)
                storage.append(0)  // text parameters are C strings
            case .binary(let bytes):
                spans.append((Int32(storage.count), Int32(bytes.count)))
                storage.append(contentsOf: bytes)
                storage.append(0)  // keeps a zero-length value's pointer valid
            }
        }
    }

    func withCArrays<T>(
        _ body: (
            _ values: UnsafePointer<UnsafePointer<CChar>?>?,
            _ lengths: UnsafePointer<Int32>?,
            _ formats: UnsafePointer<Int32>?
        ) throws -> T
    ) rethrows -> T {
        let count = spans.count
        return try storage.withUnsafeBufferPointer { bytes in
            let base = UnsafeRawPointer(bytes.baseAddress)
            return try withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: max(count, 1)) { values in
                try withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(count * 2, 1)) { integers in
                    for (index, span) in spans.enumerated() {
                        values[index] = span.offset < 0 ? nil : base!.advanced(by: Int(span.offset)).assumingMemoryBound(to: CChar.self)
                        integers[index] = max(span.binaryLength, 0)
                        integers[count + index] = span.binaryLength >= 0 ? 1 : 0
                    }
                    let integerBase = UnsafePointer(integers.baseAddress!)
                    return try body(UnsafePointer(values.baseAddress), integerBase, integerBase + count)
                }
            }
        }
    }
}
