import ArgumentParser
import Console
import Foundation
import Logging
import PostgresClient
import WorkerHost

/// Issue 17, item 2: the operators' web console, and its accounts.
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The operators' web console: queues, jobs, deliveries, claims, alerts, the ledger; and its accounts.",
        discussion: """
            `serve` connects as the console's own login (timebank_console_login, made by `timebank logins create`): \
            it reads the console's views and acts only through functions that check an operator's session in the database. \
            `accounts` is the DBA's: it connects as a login that owns the database's objects.
            """,
        subcommands: [Serve.self, Accounts.self], defaultSubcommand: Serve.self)

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the console over HTTP (put it behind HTTPS and use --secure-cookie outside a workstation).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The IPv4 address to listen on.") var host = "127.0.0.1"
        @Option(help: "The port to listen on (0: any free one, printed).") var port: UInt16 = 8090
        @Flag(help: "Mark the session cookie Secure (sent over HTTPS only).") var secureCookie = false
        @Option(help: "The reverse proxy's IPv4 address: the log-in throttle counts the client its X-Forwarded-For names, not the proxy.")
        var trustedProxy: String?

        func run() async throws {
            let settings = try await database.resolve(applicationName: "timebank-console")
            try await Self.refusePrivilegedLogin(settings)
            var logger = Logger(label: "timebank.console")
            logger.logLevel = .info
            let server = try ConsoleServer(settings: settings, ip4: host, port: port, secureCookie: secureCookie,
                                           trustedProxy: trustedProxy, logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let listening = try await server.listeningPort()
                // Unbuffered: a supervisor or script reading the line sees it at once.
                FileHandle.standardOutput.write(Data("timebank console: http://\(host):\(listening)/\n".utf8))
                try await group.next()
            }
        }

        /// The console never runs as a superuser or the owner: either could act without a session.
        static func refusePrivilegedLogin(_ settings: ConnectionSettings) async throws {
            let connection = try await PostgresConnection.connect(settings)
            defer { Task { await connection.close() } }
            let row = try await connection.query("""
                SELECT current_user::text AS login, r.rolsuper AS superuser, pg_has_role('timebank_owner', 'MEMBER') AS owner,
                       pg_has_role('timebank_console', 'MEMBER') AS console
                  FROM pg_roles r WHERE r.rolname = current_user
                """)[0]
            let login: String = try row.decode("login")
            if try row.decode("superuser", as: Bool.self) || row.decode("owner", as: Bool.self) {
                throw ValidationError("\(login) is a superuser or the owner: the console connects as timebank_console_login (timebank logins create)")
            }
            guard try row.decode("console", as: Bool.self) else {
                throw ValidationError("\(login) is no member of timebank_console: connect as timebank_console_login (timebank logins create)")
            }
        }
    }

    struct Accounts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The console's accounts (the DBA's): add, list, disable.",
            subcommands: [Add.self, List.self, Disable.self], defaultSubcommand: List.self)

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add an account; its password from --password-environment, else asked for at a terminal, else stdin's first line (never argv).")
            @OptionGroup var database: DatabaseOptions
            @Option(help: "The name to log in with (letters, digits, . _ -).") var login: String
            @Option(help: "viewer (reads every page) or operator (also retries, cancels, pauses, resends).") var power: String
            @Option(help: "A staff member's code (timebank staff add) whose powers the account's alert decisions use.") var staffCode: String?
            @Option(help: "An environment variable holding the password (at least 12 characters).") var passwordEnvironment: String?

            func run() async throws {
                let password: String
                if let passwordEnvironment {
                    password = try secretFromEnvironment(passwordEnvironment, option: "--password-environment")
                } else if isatty(STDIN_FILENO) == 1 {
                    // At a terminal: asked for, not echoed.
                    guard let typed = getpass("Password (at least 12 characters): ").map({ String(cString: $0) }), !typed.isEmpty else {
                        throw ValidationError("no password given")
                    }
                    password = typed
                } else {
                    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                        throw ValidationError("no password: give --password-environment, or the password as stdin's first line")
                    }
                    password = line
                }
                let connection = try await Jobs.connect(database)
                _ = try await Console.ConsoleAccounts.add(connection, login: login, power: power, password: password, staffCode: staffCode)
                print("added \(login) (\(power))")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Every account, its power, whether active, its last log-in.")
            @OptionGroup var database: DatabaseOptions

            func run() async throws {
                let connection = try await Jobs.connect(database)
                for account in try await Console.ConsoleAccounts.list(connection) {
                    print([account.login, account.power, account.active ? "active" : "disabled", account.staffCode.map { "staff \($0)" } ?? "-",
                           account.lastLogIn.map { "last log-in \($0)" } ?? "never logged in",
                           account.lockedUntil.map { $0 > Date() ? "locked until \($0)" : "" } ?? ""].filter { !$0.isEmpty }.joined(separator: "\t"))
                }
            }
        }

        struct Disable: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Disable an account and end its sessions (kept for the record).")
            @OptionGroup var database: DatabaseOptions
            @Option(help: "The account's login.") var login: String

            func run() async throws {
                let connection = try await Jobs.connect(database)
                guard try await Console.ConsoleAccounts.disable(connection, login: login) else { throw ValidationError("no active account \(login)") }
                print("disabled \(login); its sessions ended")
            }
        }
    }
}
