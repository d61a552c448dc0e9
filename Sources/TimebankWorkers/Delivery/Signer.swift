import Foundation
import PostgresClient

/// Signs what we send outside: the hex HMAC-SHA256 of a body under a
/// shared secret, computed by PostgreSQL's pgcrypto (OpenSSL underneath),
/// which every worker already reaches; no cryptography library to build.
/// Insurers' secrets never leave the database (sql/functions/insurance-claim/ signs claims
/// itself); a channel's secret comes from the worker's environment.
public struct Signer: Sendable {
    let database: ConnectionPool

    public init(database: ConnectionPool) { self.database = database }

    public func signature(of body: Data, secret: String) async throws -> String {
        let text = String(decoding: body, as: UTF8.self)
        return try await database.withConnection { connection in
            try await connection.query("SELECT encode(public.hmac($1::text, $2::text, 'sha256'), 'hex') AS s", [text, secret])[0]
                .decode("s", as: String.self)
        }
    }
}
