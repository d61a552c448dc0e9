import Foundation
import TimebankDatabase

extension LocalCluster {
    /// The development cluster's key, made on first use (mode 0600, beside
    /// the data directory, never inside the database).
    public func developmentPersonalDataKey() throws -> String {
        let file = home.appendingPathComponent("personal-data.key")
        if let existing = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !existing.isEmpty {
            return existing
        }
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let key = PersonalDataKey.random()
        guard FileManager.default.createFile(atPath: file.path, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ClusterError("cannot write the development personal-data key to \(file.path)")
        }
        return key
    }
}
