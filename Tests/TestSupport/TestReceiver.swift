import FlyingFox
import FlyingSocks
import Foundation

/// A local HTTP receiver standing for the SMS gateway, an agent's desk or
/// an insurer: it answers as a test scripts it (fine, slowly, 500, 400, a
/// dropped connection, never), and keeps everything it received.
public actor TestReceiver {
    public enum Answer: Sendable, Equatable {
        case ok
        case status(Int)
        /// Waits, then answers 200.
        case slow(Duration)
        /// Sends the status line and headers, then closes the connection mid-body.
        case drop
        /// Never answers (the caller times out or dies waiting).
        case hang
    }

    public struct Request: Sendable {
        public var path: String
        public var headers: [String: String]
        public var body: Data
        public var idempotencyKey: String? { headers["idempotency-key"] }
        public var signature: String? { headers["x-timebank-signature"] }
        public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    }

    /// Decides the answer to a request; `seen` counts earlier requests with its idempotency key.
    public typealias Script = @Sendable (_ request: Request, _ seen: Int) -> Answer

    private let server: HTTPServer
    private var task: Task<Void, Error>?
    private var script: Script
    public private(set) var requests: [Request] = []
    /// Per idempotency key, how many times it was answered 2xx.
    public private(set) var accepted: [String: Int] = [:]
    public let port: UInt16

    private init(server: HTTPServer, port: UInt16, script: @escaping Script) {
        self.server = server
        self.port = port
        self.script = script
    }

    /// Starts listening on a free loopback port.
    public static func start(_ script: @escaping Script = { _, _ in .ok }) async throws -> TestReceiver {
        let server = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: 0), timeout: 3600, logger: .disabled)
        let running = Task { try await server.run() }
        try await server.waitUntilListening(timeout: 30)  // FlyingFox's 5 s is short on a loaded machine
        guard case .ip4(_, let port) = await server.listeningAddress else { throw CocoaError(.featureUnsupported) }
        let receiver = TestReceiver(server: server, port: port, script: script)
        await receiver.begin(running)
        await server.appendRoute("POST *") { [weak receiver] request in
            guard let receiver else { return HTTPResponse(statusCode: .serviceUnavailable) }
            return try await receiver.answer(request)
        }
        return receiver
    }

    private func begin(_ running: Task<Void, Error>) { task = running }

    public nonisolated func url(_ path: String = "/hook") -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }

    public func setScript(_ script: @escaping Script) { self.script = script }

    public func stop() async {
        await server.stop(timeout: 1)
        task?.cancel()
    }

    /// Requests sent again with a key seen before.
    public var resends: Int { requests.count - Set(requests.compactMap(\.idempotencyKey)).count }
    /// Keys answered 2xx more than once: a receiver that ignored the key would have acted twice.
    public var acceptedTwice: Int { accepted.values.filter { $0 > 1 }.count }

    private func answer(_ request: HTTPRequest) async throws -> HTTPResponse {
        var headers: [String: String] = [:]
        for (name, value) in request.headers { headers[name.rawValue.lowercased()] = value }
        let received = Request(path: request.path, headers: headers, body: try await request.bodyData)
        let seen = requests.filter { $0.idempotencyKey != nil && $0.idempotencyKey == received.idempotencyKey }.count
        requests.append(received)
        let answer = script(received, seen)
        switch answer {
        case .ok:
            return accept(received)
        case .status(let code):
            if (200..<300).contains(code) { return accept(received) }
            return HTTPResponse(statusCode: HTTPStatusCode(code, phrase: "scripted"), body: Data("scripted \(code)".utf8))
        case .slow(let delay):
            try await Task.sleep(for: delay)
            return accept(received)
        case .drop:
            return HTTPResponse(statusCode: .ok, headers: [:], body: HTTPBodySequence(from: FailingBytes(), count: 100))
        case .hang:
            try await Task.sleep(for: .seconds(3600))
            return HTTPResponse(statusCode: .serviceUnavailable)
        }
    }

    private func accept(_ request: Request) -> HTTPResponse {
        if let key = request.idempotencyKey { accepted[key, default: 0] += 1 }
        return HTTPResponse(statusCode: .ok, body: Data("{\"received\":true}".utf8))
    }
}

/// A body that fails at once: the server has sent the headers and closes
/// the connection, as a receiver that crashed mid-answer would.
private struct FailingBytes: AsyncBufferedSequence {
    typealias Element = UInt8
    struct AsyncIterator: AsyncBufferedIteratorProtocol {
        mutating func next() async throws -> UInt8? { throw CocoaError(.fileReadUnknown) }
        mutating func nextBuffer(suggested count: Int) async throws -> [UInt8]? { throw CocoaError(.fileReadUnknown) }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator() }
}
