import ArgumentParser
import Foundation
import TimebankOperations
import WorkerHost

/// Issue 15, finding 5: the application's logins, one per worker kind and
/// client role (LoginAdmin). A DBA's command: it connects as a superuser or
/// a role with CREATEROLE.
struct Logins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The application's database logins: one per worker kind, the residents' client, the staff desk, analysts, personal-data readers, the web console.",
        discussion: """
            Each login is a member of its group role only (timebank_settlement_login of timebank_settlement, ...): \
            no superuser, no owner, no CREATEROLE. `create` makes the missing ones and puts the others back to that; \
            with --password-environment, each gets the password that variable holds (else none: pg_hba.conf decides). \
            A worker's login also gets its worker's session timeouts (ALTER ROLE ... SET idle_in_transaction_session_timeout, \
            lock_timeout, statement_timeout), which a worker behind a transaction pooler (--pooler transaction) cannot set itself.
            """,
        subcommands: [Create.self, List.self], defaultSubcommand: List.self)

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the logins, or put them back to what they should be.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "An environment variable holding the logins' password (never the password itself on the command line).")
        var passwordEnvironment: String?

        func run() async throws {
            let password = try passwordEnvironment.map { try secretFromEnvironment($0, option: "--password-environment") }
            let connection = try await Jobs.connect(database)
            try await LoginAdmin.ensure(connection, password: password)
            for login in LoginAdmin.logins { print("\(login.name): a member of \(login.group)") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The logins and what each is a member of.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let connection = try await Jobs.connect(database)
            for login in try await LoginAdmin.list(connection) {
                print("\(login.name): " + (login.exists ? "a member of \(login.memberOf.joined(separator: ", "))" : "missing (timebank logins create)"))
            }
        }
    }
}
