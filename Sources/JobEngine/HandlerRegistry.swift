import Foundation

/// Handlers by job kind, with their arguments decoded from the job's JSON.
public struct HandlerRegistry: Sendable {
    typealias Erased = @Sendable (_ arguments: String, _ context: JobContext) async throws -> JobOutcome

    private var handlers: [String: Erased] = [:]

    public init() {}

    public mutating func register<H: JobHandler>(_ handler: H) {
        let decoder = JSONDecoder()
        handlers[H.kind] = { arguments, context in
            let decoded: H.Arguments
            do {
                decoded = try decoder.decode(H.Arguments.self, from: Data(arguments.utf8))
            } catch {
                throw JobFailure.undecodableArguments(kind: H.kind, reason: "\(error)")
            }
            return try await handler.run(decoded, context: context)
        }
    }

    public var kinds: [String] { handlers.keys.sorted() }

    func handler(for kind: String) -> Erased? { handlers[kind] }
}

/// Failures that no retry can mend: the job is discarded at once.
public enum JobFailure: Error, CustomStringConvertible, Sendable {
    case unknownKind(String)
    case undecodableArguments(kind: String, reason: String)

    public var description: String {
        switch self {
        case .unknownKind(let kind): return "no handler is registered for job kind \"\(kind)\" in this worker"
        case .undecodableArguments(let kind, let reason): return "the arguments of a \"\(kind)\" job do not decode: \(reason)"
        }
    }
}
