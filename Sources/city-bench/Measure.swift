import ArgumentParser

struct Measure: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure a database (generated or empty).")
    @OptionGroup var options: ServerOptions
    func run() async throws { throw ValidationError("not yet") }
}
