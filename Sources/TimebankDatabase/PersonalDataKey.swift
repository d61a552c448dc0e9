import Foundation
import PostgresClient

/// R23: the key national IDs and phone numbers are encrypted and hashed
/// with (sql/functions/bank/personal_data.sql). It lives only in the environment of the processes that
/// need it (`TIMEBANK_PII_KEY`), never in the repository or the database;
/// each session gets it as the setting `timebank.pii_key`, which no other
/// session can read. The local development cluster keeps a random one in
/// its home (`personal-data.key`), outside the database.
public enum PersonalDataKey {
    public static let environmentVariable = "TIMEBANK_PII_KEY"
    public static let sessionSetting = "timebank.pii_key"

    /// 32 characters or more, of those a connection option carries unquoted.
    public static func validate(_ key: String) throws {
        guard key.count >= 32, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+/=_.-".contains($0)) }) else {
            throw ClusterError("\(environmentVariable) must be 32 characters or more of letters, digits and + / = _ . - (the value is not shown)")
        }
    }

    /// `settings` with the key of the environment, if it names one.
    public static func apply(to settings: ConnectionSettings, key: String?) throws -> ConnectionSettings {
        guard let key, !key.isEmpty else { return settings }
        try validate(key)
        return settings.with(parameter: sessionSetting, key)
    }

    /// A random key for development: letters and digits, 48 of them.
    public static func random() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<48).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}
