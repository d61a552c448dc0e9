import CLibPQ

/// Names of the statements already prepared on one connection, keyed by
/// SQL text and parameter types, so that a statement run again skips the
/// server's parse and plan (what `pgbench -M prepared` does).
struct StatementCache {
    /// Names kept as C strings, ready for libpq without a conversion per call.
    private var names: [Key: ContiguousArray<CChar>] = [:]
    private var counter = 0
    let capacity: Int

    struct Key: Hashable {
        var sql: String
        var types: [Oid]
    }

    init(capacity: Int = 512) { self.capacity = capacity }

    var isFull: Bool { names.count >= capacity }

    func name(for key: Key) -> ContiguousArray<CChar>? { names[key] }

    /// A fresh name for a statement about to be prepared.
    mutating func nextName() -> ContiguousArray<CChar> {
        counter += 1
        return "tb\(counter)".utf8CString
    }

    mutating func remember(_ key: Key, as name: ContiguousArray<CChar>) { names[key] = name }

    mutating func removeAll() { names.removeAll() }
}
