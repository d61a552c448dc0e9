import ArgumentParser
import Foundation
import TimebankOperations
import TimebankWorkers
import WorkerHost

/// Issue 15, finding 9: the civil-affairs staff the database knows. Their
/// desk's back end logs in as a member of `timebank_staff` and names the
/// acting member's code in every staff act; this command (an operator's,
/// as the schema's owner) says who they are.
struct Staff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Civil-affairs staff members: who may act through the staff role, for which district, with which powers.",
        discussion: """
            Powers:
            \(StaffAdmin.powers.map { "  \($0.key.padding(toLength: 21, withPad: " ", startingAt: 0)) \($0.value)" }.joined(separator: "\n"))
            A member without --district is city-level: it acts on every district, and only it may hold set_budget and import_registry.
            """,
        subcommands: [Add.self, List.self, Deactivate.self], defaultSubcommand: List.self)

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a staff member.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "Its code (letters, digits, . _ -; at most 40): what the desk sends with each act; never reused.") var code: String
        @Option(help: "Its district's code (e.g. 110105); none: city level.") var district: String?
        @Option(help: "A power (repeatable; see timebank staff --help).") var power: [String] = []
        @Option(help: "How the desk shows it (optional; no personal data is needed).") var name: String?

        func run() async throws {
            guard !power.isEmpty else { throw ValidationError("--power: a member holds at least one power") }
            let known = Set(StaffAdmin.powers.map(\.key))
            if let unknown = power.first(where: { !known.contains($0) }) {
                throw ValidationError("--power: \(unknown) is not one of \(StaffAdmin.powers.map(\.key).joined(separator: ", "))")
            }
            let connection = try await Jobs.connect(database)
            let id = try await StaffAdmin.add(connection, code: code, districtCode: district, powers: power, displayName: name)
            print("staff member \(code) added (id \(id), \(district.map { "district \($0)" } ?? "city level"))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The staff members, city level first.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Deactivated members too.") var all = false

        func run() async throws {
            let connection = try await Jobs.connect(database)
            for member in try await StaffAdmin.list(connection, includeInactive: all) {
                print("\(member.code)\tid \(member.id)\t\(member.districtCode ?? "city")\t\(member.powers.joined(separator: ","))"
                    + "\t\(member.active ? "active" : "deactivated")\(member.displayName.map { "\t\($0)" } ?? "")")
            }
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deactivate a member: its acts are refused from now on; its record stays.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "Its code.") var code: String

        func run() async throws {
            let connection = try await Jobs.connect(database)
            try await StaffAdmin.deactivate(connection, code: code)
            print("staff member \(code) deactivated")
        }
    }
}
