import Foundation
import TimebankDatabase

extension LocalCluster {
    /// The personal-data key an earlier release kept beside this cluster's
    /// data directory (`personal-data.key`), if there is one: the migration
    /// of the data it encrypted reads it once (sql/migrations/0025). Since
    /// then the keys are the database's own, and none is made here.
    public func earlierPersonalDataKey() -> String? {
        let file = home.appendingPathComponent("personal-data.key")
        guard let existing = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
              !existing.isEmpty else { return nil }
        return existing
    }
}
