import CLibPQ

/// A statement and its parameters, for ``PostgresConnection/pipeline(_:)``.
public struct PostgresStatement: Sendable {
    public var sql: String
    public var parameters: [any PostgresEncodable]

    public init(_ sql: String, _ parameters: [any PostgresEncodable] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

extension PostgresConnection {
    /// Sends all the statements at once and reads their results after, in
    /// one network round trip (libpq's pipeline mode), then returns the
    /// results in order.
    ///
    /// The statements run as one implicit transaction (PostgreSQL runs the
    /// statements before a pipeline's sync point as one unless they BEGIN
    /// their own): if one fails, none of them takes effect, and this throws
    /// the first error, prefixed with the failing statement's position.
    /// Inside an explicit transaction they join it.
    public func pipeline(_ statements: [PostgresStatement]) throws -> [QueryResult] {
        guard !statements.isEmpty else { return [] }
        let encoded = try statements.map { try EncodedParameters($0.parameters) }
        let conn = try ensureSession()
        guard PQenterPipelineMode(conn) == 1 else {
            throw PostgresError(.usage, message: "cannot enter pipeline mode: \(String(cString: PQerrorMessage(conn)))")
        }
        defer { PQexitPipelineMode(conn) }

        // Statements seen before are run by name; new ones are prepared in
        // the same pipeline and remembered once it succeeds.
        var newlyPrepared: [(StatementCache.Key, ContiguousArray<CChar>)] = []
        var expectsPrepareResult: [Bool] = []
        let unnamed = settings.preparedStatements == .unnamed
        for (statement, parameters) in zip(statements, encoded) {
            if unnamed {
                // Parse, bind and execute as the unnamed statement: nothing outlives the transaction.
                let sent = parameters.types.withUnsafeBufferPointer { types in
                    parameters.withCArrays { values, lengths, formats in
                        PQsendQueryParams(conn, statement.sql, Int32(parameters.count), types.baseAddress, values, lengths, formats, 0)
                    }
                }
                guard sent == 1 else { throw abandonPipeline(conn) }
                expectsPrepareResult.append(false)
                continue
            }
            let key = StatementCache.Key(sql: statement.sql, types: parameters.types)
            var name = self.statements.name(for: key) ?? newlyPrepared.first(where: { $0.0 == key })?.1
            var sentPrepare = false
            if name == nil {
                let fresh = self.statements.nextName()
                let sent = parameters.types.withUnsafeBufferPointer { types in
                    fresh.withUnsafeBufferPointer { fresh in
                        PQsendPrepare(conn, fresh.baseAddress, statement.sql, Int32(parameters.count), types.baseAddress)
                    }
                }
                guard sent == 1 else { throw abandonPipeline(conn) }
                newlyPrepared.append((key, fresh))
                name = fresh
                sentPrepare = true
            }
            let sent = parameters.withCArrays { values, lengths, formats in
                name!.withUnsafeBufferPointer { name in
                    PQsendQueryPrepared(conn, name.baseAddress, Int32(parameters.count), values, lengths, formats, 0)
                }
            }
            guard sent == 1 else { throw abandonPipeline(conn) }
            expectsPrepareResult.append(sentPrepare)
        }
        guard PQpipelineSync(conn) == 1 else { throw abandonPipeline(conn) }

        var results: [QueryResult] = []
        results.reserveCapacity(statements.count)
        var firstError: PostgresError?
        for (index, hasPrepare) in expectsPrepareResult.enumerated() {
            if hasPrepare, let error = readOne(conn), firstError == nil {
                firstError = positioned(error, index, statements.count)
            }
            switch readResult(conn) {
            case .success(let result): results.append(result)
            case .failure(let error):
                if firstError == nil { firstError = positioned(error, index, statements.count) }
            }
        }
        // The sync point's own result ends the pipeline.
        while let result = PQgetResult(conn) {
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_PIPELINE_SYNC { break }
        }
        if let firstError { throw firstError }
        for (key, name) in newlyPrepared { self.statements.remember(key, as: name) }
        return results
    }

    /// Reads a PQsendPrepare's result; returns its error, if any.
    private func readOne(_ conn: OpaquePointer) -> PostgresError? {
        switch readResult(conn) {
        case .success: return nil
        case .failure(let error): return error
        }
    }

    /// Reads one statement's result and the NULL that ends it.
    private func readResult(_ conn: OpaquePointer) -> Result<QueryResult, PostgresError> {
        guard let result = PQgetResult(conn) else {
            return .failure(lostOrServerError(conn, result: nil))
        }
        let outcome: Result<QueryResult, PostgresError>
        if PQresultStatus(result) == PGRES_PIPELINE_ABORTED {
            PQclear(result)
            outcome = .failure(PostgresError(.server, message: "not run: an earlier statement of the pipeline failed"))
        } else {
            do {
                outcome = .success(try check(result, conn))
            } catch {
                outcome = .failure(error as! PostgresError)
            }
        }
        // Each statement's results end with a NULL.
        while let extra = PQgetResult(conn) { PQclear(extra) }
        return outcome
    }

    private func positioned(_ error: PostgresError, _ index: Int, _ count: Int) -> PostgresError {
        var error = error
        error.message = "pipeline statement \(index + 1) of \(count): " + error.message
        return error
    }

    /// A send failed (the connection broke): the session is unusable.
    private func abandonPipeline(_ conn: OpaquePointer) -> PostgresError {
        let error = lostOrServerError(conn, result: nil)
        PQfinish(conn)
        self.conn = nil
        return error.kind == .connectionLost ? error : PostgresError(.connectionLost, message: error.message)
    }
}
