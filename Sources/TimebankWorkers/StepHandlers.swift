import JobEngine
import PostgresClient

/// The arguments of every domain job: the id of the request or service it
/// acts on. Everything else the step reads from the database, as it is
/// when the step runs.
public struct Subject: Codable, Sendable, Equatable {
    public var id: Int64
    public init(id: Int64) { self.id = id }
}

/// A job kind whose work is one SQL step function of `sql/` (e.g.
/// `order.book` runs `bank.order_book(id)`), in a transaction of its own.
/// The step functions are idempotent: they lock what they act on and look
/// at its state first, so a retried or duplicated job changes nothing.
public struct Step: Sendable, Equatable {
    public var kind: String
    /// A `bank.` function taking one bigint; a constant, never input.
    public var function: String
    /// The id is a request's (a client's call), not a service's: the step
    /// then runs with `timebank.request_id` set, so that the changes it
    /// makes are recorded with their request, and so with who performed
    /// them (R5). System steps (expiry, no-show) have none.
    public var servesRequest: Bool

    public init(_ kind: String, _ function: String, servesRequest: Bool = true) {
        self.kind = kind
        self.function = function
        self.servesRequest = servesRequest
    }
}

extension HandlerRegistry {
    /// Registers each step as a handler running its function.
    public mutating func register(steps: [Step]) {
        for step in steps {
            let sql = "SELECT bank.\(step.function)($1)"
            let servesRequest = step.servesRequest
            register(kind: step.kind) { (subject: Subject, context) in
                try await context.database.withConnection { connection in
                    try await connection.transaction { connection in
                        if servesRequest {
                            _ = try connection.query("SELECT set_config('timebank.request_id', $1::text, true)", [String(subject.id)])
                        }
                        _ = try connection.query(sql, [subject.id])
                    }
                }
                return .completed
            }
        }
    }
}
