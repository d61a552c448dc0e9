import Foundation
import PostgresClient

/// Handlers by job kind, with their arguments decoded from the job's JSON.
public struct HandlerRegistry: Sendable {
    typealias Erased = @Sendable (_ arguments: String, _ context: JobContext) async throws -> JobOutcome

    typealias ErasedBatch = @Sendable (_ arguments: [String], _ connection: isolated PostgresConnection) throws -> BatchRun

    private var handlers: [String: Erased] = [:]
    private var batchHandlers: [String: ErasedBatch] = [:]

    public init() {}

    public mutating func register<H: JobHandler>(_ handler: H) {
        register(kind: H.kind) { (arguments: H.Arguments, context) in try await handler.run(arguments, context: context) }
    }

    /// Registers a closure for a kind named at run time (one handler type
    /// serving several kinds, say).
    public mutating func register<Arguments: Decodable & Sendable>(
        kind: String, _ run: @escaping @Sendable (Arguments, JobContext) async throws -> JobOutcome
    ) {
        let decoder = JSONDecoder()
        handlers[kind] = { arguments, context in
            let decoded: Arguments
            do {
                decoded = try decoder.decode(Arguments.self, from: Data(arguments.utf8))
            } catch {
                throw JobFailure.undecodableArguments(kind: kind, reason: "\(error)")
            }
            return try await run(decoded, context)
        }
    }

    /// Registers a handler whose jobs run many to a transaction.
    public mutating func register<H: BatchJobHandler>(_ handler: H) {
        let decoder = JSONDecoder()
        batchHandlers[H.kind] = { arguments, connection in
            let decoded: [H.Arguments]
            do {
                decoded = try arguments.map { try decoder.decode(H.Arguments.self, from: Data($0.utf8)) }
            } catch {
                throw JobFailure.undecodableArguments(kind: H.kind, reason: "\(error)")
            }
            let run = try handler.runObservingCommit(decoded, connection: connection)
            guard run.outcomes.count == decoded.count else {
                throw JobFailure.undecodableArguments(kind: H.kind, reason: "the handler returned \(run.outcomes.count) outcomes for \(decoded.count) jobs")
            }
            return run
        }
    }

    public var kinds: [String] { (Array(handlers.keys) + Array(batchHandlers.keys)).sorted() }

    func handler(for kind: String) -> Erased? { handlers[kind] }

    func batchHandler(for kind: String) -> ErasedBatch? { batchHandlers[kind] }
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
