import ArgumentParser
import Foundation

/// A secret that an option names by its environment variable: never the
/// secret itself on the command line, where every user of the host can read
/// it (ps, /proc/<pid>/cmdline). An unset or empty variable is refused.
func secretFromEnvironment(_ variable: String, option: String) throws -> String {
    guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
        throw ValidationError("\(option): \(variable) is not set")
    }
    return value
}
