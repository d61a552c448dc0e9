import CLibPQ

extension PostgresConnection {
    /// Runs one parameterised statement (`$1..$n`) and returns its rows.
    ///
    /// The statement is prepared once per session and cached, so a
    /// statement run again pays no parse or plan; with
    /// ``PreparedStatements/unnamed`` it is sent unnamed each time.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> QueryResult {
        let encoded = try EncodedParameters(parameters)
        let conn = try ensureSession()
        // Behind a transaction pooler a name would outlive the server session it was made on.
        if settings.preparedStatements == .unnamed { return try executeUnprepared(sql, encoded, conn) }
        let key = StatementCache.Key(sql: sql, types: encoded.types)
        if let name = statements.name(for: key) {
            do {
                return try executePrepared(name, encoded, conn)
            } catch let error as PostgresError where isStalePreparedStatement(error, conn) {
                // The server forgot the statement (DISCARD ALL) or its plan's
                // result type changed (ALTER TABLE): prepare it again.
                statements.removeAll()
            }
        }
        guard !statements.isFull || PQtransactionStatus(conn) == PQTRANS_IDLE else {
            // A full cache is emptied only between transactions; until then,
            // run unprepared.
            return try executeUnprepared(sql, encoded, conn)
        }
        if statements.isFull {
            _ = try check(PQexec(conn, "DEALLOCATE ALL"), conn)
            statements.removeAll()
        }
        let name = statements.nextName()
        let prepared = encoded.types.withUnsafeBufferPointer { types in
            name.withUnsafeBufferPointer { name in
                PQprepare(conn, name.baseAddress, sql, Int32(encoded.count), types.baseAddress)
            }
        }
        _ = try check(prepared, conn)
        statements.remember(key, as: name)
        return try executePrepared(name, encoded, conn)
    }

    /// Runs one parameterised statement and returns the rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> Int {
        try query(sql, parameters).affectedRows
    }

    /// Runs SQL text that may hold several statements and no parameters
    /// (migration files, `SET`, `BEGIN`). Never pass it values from outside:
    /// use ``query(_:_:)`` with parameters for those.
    @discardableResult
    public func executeScript(_ sql: String) throws -> QueryResult {
        let conn = try ensureSession()
        return try check(PQexec(conn, sql), conn)
    }

    private func executePrepared(_ name: ContiguousArray<CChar>, _ encoded: EncodedParameters, _ conn: OpaquePointer) throws -> QueryResult {
        let result = encoded.withCArrays { values, lengths, formats in
            name.withUnsafeBufferPointer { name in
                PQexecPrepared(conn, name.baseAddress, Int32(encoded.count), values, lengths, formats, 0)
            }
        }
        return try check(result, conn)
    }

    private func executeUnprepared(_ sql: String, _ encoded: EncodedParameters, _ conn: OpaquePointer) throws -> QueryResult {
        let result = encoded.types.withUnsafeBufferPointer { types in
            encoded.withCArrays { values, lengths, formats in
                PQexecParams(conn, sql, Int32(encoded.count), types.baseAddress, values, lengths, formats, 0)
            }
        }
        return try check(result, conn)
    }

    private func isStalePreparedStatement(_ error: PostgresError, _ conn: OpaquePointer) -> Bool {
        guard PQtransactionStatus(conn) == PQTRANS_IDLE else { return false }
        return error.code == .invalidSQLStatementName
            || (error.code == .featureNotSupported && error.message.contains("cached plan"))
    }
}
