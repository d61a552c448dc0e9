import ArgumentParser
import Foundation
import JobEngine
import WorkerHost

/// `timebank jobs limits set|list|remove`: per-key concurrency and rate
/// limits of a queue's keyed jobs (claims carry insurer:<code>, deliveries
/// channel:<recipient kind>).
struct JobLimits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limits", abstract: "Per-key concurrency and rate limits of a queue's jobs.",
        subcommands: [SetRule.self, ListRules.self, RemoveRule.self])

    struct SetRule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Limit the jobs of each key that starts with a prefix (the longest matching prefix applies).",
            discussion: "Example: timebank jobs limits set claims insurer: --max-running 4 --per-second 2")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The queue.") var queue: String
        @Argument(help: "The key prefix ('' for every key of the queue).") var keyPrefix: String
        @Option(help: "At most this many of one key's jobs running at once, across every worker.") var maxRunning: Int?
        @Option(help: "At most this many of one key's jobs started per second.") var perSecond: Double?
        @Option(help: "At most this many started at once after a quiet spell (default: a second's worth).") var burst: Int?

        func validate() throws {
            if maxRunning == nil && perSecond == nil { throw ValidationError("give --max-running, --per-second or both") }
            if burst != nil && perSecond == nil { throw ValidationError("--burst needs --per-second") }
        }

        func run() async throws {
            let connection = try await Jobs.connect(database)
            let rule = try await JobAdmin.setLimit(connection, queue: queue, keyPrefix: keyPrefix, maxRunning: maxRunning,
                                                   perSecond: perSecond, burst: burst)
            print("queue \(rule.queue), keys '\(rule.keyPrefix)*': \(JobLimits.describe(rule))")
        }
    }

    struct ListRules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "The rules, and each limited key's jobs running and waiting.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let connection = try await Jobs.connect(database)
            let rules = try await JobAdmin.limits(connection)
            if rules.isEmpty { print("no limit rules: every queue's jobs are claimed without limit") }
            for rule in rules {
                print("\(rule.queue)\t'\(rule.keyPrefix)*'\t\(JobLimits.describe(rule))\tset by \(rule.setBy) at \(rule.setAt)")
            }
            let usage = try await JobAdmin.limitUsage(connection)
            if !usage.isEmpty { print("\nqueue\tkey\trule\trunning\twaiting\ttokens") }
            for key in usage {
                print("\(key.queue)\t\(key.limitKey)\t'\(key.keyPrefix)*'\t\(key.running)\t\(key.waiting)\t"
                    + (key.tokens.map { String(format: "%.1f", $0) } ?? "full"))
            }
        }
    }

    struct RemoveRule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a rule (its keys fall under the next longest prefix, or none).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The queue.") var queue: String
        @Argument(help: "The key prefix, as set.") var keyPrefix: String

        func run() async throws {
            let connection = try await Jobs.connect(database)
            guard try await JobAdmin.removeLimit(connection, queue: queue, keyPrefix: keyPrefix) else {
                throw ValidationError("queue \(queue) has no rule for '\(keyPrefix)'")
            }
            print("rule removed: queue \(queue), keys '\(keyPrefix)*'")
        }
    }

    static func describe(_ rule: JobAdmin.LimitRule) -> String {
        var parts: [String] = []
        if let max = rule.maxRunning { parts.append("at most \(max) running per key") }
        if let rate = rule.perSecond { parts.append("at most \(rate) started per second per key (burst \(rule.burst ?? 1))") }
        return parts.joined(separator: ", ")
    }
}
