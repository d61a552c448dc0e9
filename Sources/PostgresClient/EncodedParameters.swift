import CLibPQ

/// Parameters flattened into the C arrays libpq takes. The arrays live as
/// long as this value; callers pass them inside ``withCArrays(_:)``, so
/// every pointer outlives the libpq call that reads it.
struct EncodedParameters {
    private(set) var types: [Oid] = []
    private var storage: [UInt8] = []
    private var offsets: [Int] = []  // -1 for NULL
    private var lengths: [Int32] = []
    private var formats: [Int32] = []

    var count: Int { types.count }

    init(_ parameters: [any PostgresEncodable]) throws {
        types.reserveCapacity(parameters.count)
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
                offsets.append(-1)
                lengths.append(0)
                formats.append(0)
            case .text(let text):
                offsets.append(storage.count)
                storage.append(contentsOf: text.utf8)
                storage.append(0)  // text parameters are C strings
                lengths.append(0)
                formats.append(0)
            case .binary(let bytes):
                offsets.append(storage.count)
                storage.append(contentsOf: bytes)
                storage.append(0)  // keeps a zero-length value's pointer valid
                lengths.append(Int32(bytes.count))
                formats.append(1)
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
        try storage.withUnsafeBufferPointer { bytes in
            let base = UnsafeRawPointer(bytes.baseAddress)
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset < 0 ? nil : base!.advanced(by: offset).assumingMemoryBound(to: CChar.self)
            }
            return try values.withUnsafeBufferPointer { values in
                try lengths.withUnsafeBufferPointer { lengths in
                    try formats.withUnsafeBufferPointer { formats in
                        try body(values.baseAddress, lengths.baseAddress, formats.baseAddress)
                    }
                }
            }
        }
    }
}
