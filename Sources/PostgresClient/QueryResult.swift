import CLibPQ
import Foundation

/// The rows of one statement's result.
///
/// Owns its `PGresult` and clears it exactly once, in `deinit`. A
/// `PGresult` is never changed after libpq hands it over, so reading it
/// from any thread is safe (libpq: "PGresult objects are read-only").
public final class QueryResult: @unchecked Sendable, RandomAccessCollection {
    private let result: OpaquePointer
    public let count: Int
    public let columnCount: Int
    /// Rows inserted, updated, deleted... as the command tag says (0 when
    /// the command reports none).
    public var affectedRows: Int {
        PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
    }

    /// The command tag's verb and counts, e.g. `INSERT 0 1`, `COMMIT`, `ROLLBACK`.
    public var commandTag: String { PQcmdStatus(result).map { String(cString: $0) } ?? "" }

    init(taking result: OpaquePointer) {
        self.result = result
        self.count = Int(PQntuples(result))
        self.columnCount = Int(PQnfields(result))
    }

    deinit { PQclear(result) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> PostgresRow { PostgresRow(result: self, index: position) }

    /// The columns' names, in order.
    public var columns: [String] {
        (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
    }

    /// The index of a column by its exact name, or nil.
    public func columnIndex(_ name: String) -> Int? {
        name.withCString { wanted in
            for index in 0..<columnCount where strcmp(PQfname(result, Int32(index)), wanted) == 0 {
                return index
            }
            return nil
        }
    }

    func cell(row: Int, column: Int) -> PostgresCell {
        let r = Int32(row), c = Int32(column)
        let name = PQfname(result, c)!
        let type = PostgresType.of(oid: PQftype(result, c))
        if PQgetisnull(result, r, c) != 0 {
            return PostgresCell(bytes: nil, type: type, columnName: name)
        }
        let length = Int(PQgetlength(result, r, c))
        let start = UnsafeRawPointer(PQgetvalue(result, r, c)!).assumingMemoryBound(to: UInt8.self)
        return PostgresCell(bytes: UnsafeBufferPointer(start: start, count: length), type: type, columnName: name)
    }

    /// Keeps the result alive while `body` reads a cell borrowed from it.
    func withCell<T>(row: Int, column: Int, _ body: (PostgresCell) throws -> T) rethrows -> T {
        try withExtendedLifetime(self) { try body(cell(row: row, column: column)) }
    }
}

/// One row of a ``QueryResult``; decode its values by column name.
///
///     let balance = try row.decode("balance", as: Int.self)
///     let note = try row.decode("note", as: String?.self)
public struct PostgresRow: Sendable {
    let result: QueryResult
    let index: Int

    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let columnIndex = result.columnIndex(column) else {
            throw PostgresError(.decoding, message: "no column \"\(column)\" in the result (columns: \(result.columns.joined(separator: ", ")))")
        }
        return try result.withCell(row: index, column: columnIndex) { try T.decode(from: $0) }
    }

    public func decode<T: PostgresDecodable>(column columnIndex: Int, as type: T.Type = T.self) throws -> T {
        guard columnIndex >= 0, columnIndex < result.columnCount else {
            throw PostgresError(.decoding, message: "no column \(columnIndex) in a result of \(result.columnCount) columns")
        }
        return try result.withCell(row: index, column: columnIndex) { try T.decode(from: $0) }
    }

    public func isNull(_ column: String) -> Bool {
        guard let columnIndex = result.columnIndex(column) else { return true }
        return result.withCell(row: index, column: columnIndex) { $0.isNull }
    }
}
