import CLibPQ

/// Names of the statements already prepared on one connection, keyed by
/// SQL text and parameter types, so that a statement run again skips the
/// server's parse and plan (what `pgbench -M prepared` does).
struct StatementCache {
    private var names: [Key: String] = [:]
    private var counter = 0
    let capacity: Int

    struct Key: Hashable {
        var sql: String
        var types: [Oid]
    }

    init(capacity: Int = 512) { self.capacity = capacity }

    var isFull: Bool { names.count >= capacity }

    func name(for key: Key) -> String? { names[key] }

    /// A fresh name for a statement about to be prepared.
    mutating func nextName() -> String {
        counter += 1
        return "tb\(counter)"
    }

    mutating func remember(_ key: Key, as name: String) { names[key] = name }

    mutating func removeAll() { names.removeAll() }
}
