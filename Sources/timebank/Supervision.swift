import ArgumentParser
import Foundation
import TimebankOperations
import TimebankWorkers
import WorkerHost

struct Supervision: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "R21 alerts and the watch list; R22 confirming fraud (the dishonest list).",
        subcommands: [Alerts.self, Watch.self, Scan.self, Dismiss.self, ConfirmFraud.self], defaultSubcommand: Alerts.self)

    struct Alerts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Alerts with their evidence, newest first.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "open, dismissed, confirmed, or all.") var status = "open"
        @Option(help: "At most this many.") var limit = 50

        func run() async throws {
            let connection = try await Jobs.connect(database)
            for alert in try await SupervisionAdmin.alerts(connection, status: status == "all" ? nil : status, limit: limit) {
                print("alert \(alert.id)\t\(alert.kind)\t\(alert.status)\tpeople \(alert.people.map(String.init).joined(separator: ","))\t\(alert.evidence)")
            }
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The people and accounts involved in open or confirmed alerts.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let connection = try await Jobs.connect(database)
            for person in try await SupervisionAdmin.watchList(connection) {
                print("person \(person.personID)\taccount \(person.accountID.map(String.init) ?? "-")\t\(person.openAlerts) open, "
                    + "\(person.confirmedAlerts) confirmed\t\(person.kinds.joined(separator: ","))\(person.dishonest ? "\tDISHONEST LIST (R22)" : "")")
            }
        }
    }

    struct Scan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the alert scan now (it also runs every alert_scan_minutes).")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let connection = try await Jobs.connect(database)
            print("\(try await SupervisionAdmin.scan(connection)) alert(s) opened")
        }
    }

    struct Dismiss: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dismiss an open alert, saying why.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The alert's id.") var alert: Int64
        @Option(help: "The deciding supervisor's staff code (timebank staff list).") var by: String
        @Option(help: "Why it is dismissed.") var reason: String

        func run() async throws {
            let connection = try await Jobs.connect(database)
            try await SupervisionAdmin.dismiss(connection, alert: alert, supervisor: by, reason: reason)
            print("alert \(alert) dismissed")
        }
    }

    struct ConfirmFraud: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "confirm-fraud",
            abstract: "R22: put a person on the dishonest list and take back the coins of the services found fraudulent.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The person's id.") var person: Int64
        @Option(help: "The deciding supervisor's staff code (timebank staff list).") var by: String
        @Option(help: "The reason, recorded.") var reason: String
        @Option(help: "The alert it confirms.") var alert: Int64?
        @Option(help: "A settled service of the person found fraudulent (repeatable).") var service: [Int64] = []

        func run() async throws {
            let connection = try await Jobs.connect(database)
            let request = try await SupervisionAdmin.confirmFraud(connection, person: person, supervisor: by, reason: reason,
                                                                  alert: alert, services: service)
            print("request \(request) submitted; the settlement worker carries it out")
        }
    }
}
