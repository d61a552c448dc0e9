import ArgumentParser
import Foundation
import PostgresClient
import TimebankDatabase
import TimebankOperations
import WorkerHost

/// Issue 17: the api explains itself. What client developers need, read
/// from the catalog (each function's COMMENT in sql/functions/api/), so it
/// is what the database runs; `--markdown` is docs/api.md.
struct API: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "List the client contract: every api function's signature, result, callers and comment, from the catalog.",
        discussion: "psql shows the same: \\df+ api.*, \\sf api.balance. Regenerate docs/api.md: \(APIDocument.regenerate)"
    )

    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Print a Markdown document (docs/api.md) instead of text.") var markdown = false
    @Argument(help: "Only the functions whose name contains this.") var name: String?

    func run() async throws {
        let connection = try await Jobs.connect(database)
        // A database that this tree did not migrate describes another api.
        if let migrator = try? Migrator.project(), try await !migrator.isCurrent(connection) {
            FileHandle.standardError.write(Data("warning: the database is not migrated to this tree's sql/ (timebank migrate)\n".utf8))
        }
        let functions = try await APICatalog.functions(connection).filter { name.map($0.name.contains) ?? true }
        await connection.close()
        print(markdown ? APIDocument.markdown(functions) : APIDocument.text(functions), terminator: "")
    }
}
