import Foundation
import PostgresClient

/// R23: the personal-data key of the earlier releases, which each session
/// brought from its environment (`TIMEBANK_PII_KEY`) as the setting
/// `timebank.pii_key`. Since sql/migrations/0025 the keys are the
/// database's own, readable by its owner's functions alone (issue 15: a
/// client that chose its own key registered a person twice); the setting
/// is read only by that migration, once, for the data an earlier release
/// encrypted. (`timebank migrate` and `timebank up` pass it on when the
/// environment names it.)
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
}
