import Foundation

/// For development: appends each message's payload as one JSON line to a
/// file. Always "delivered" unless the file cannot be written.
public struct FileChannel: NotificationChannel {
    public let name: String
    public let path: String
    private let writer: LineWriter

    public init(name: String, path: String) {
        self.name = name
        self.path = path
        writer = LineWriter(path: path)
    }

    public func deliver(_ message: OutgoingMessage, signer: Signer) async -> HTTPExchange {
        let clock = ContinuousClock()
        let started = clock.now
        var line = message.payload(channel: name, includePhone: false)
        line.append(0x0A)
        do {
            try await writer.append(line)
            return HTTPExchange(status: 200, answer: "written to \(path)", latency: clock.now - started)
        } catch {
            return HTTPExchange(status: nil, answer: "not written: \(error)", latency: clock.now - started)
        }
    }
}

/// One writer per file, so that lines never interleave.
actor LineWriter {
    let path: String

    init(path: String) { self.path = path }

    func append(_ line: Data) throws {
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(
                at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteNoPermission)
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }
}
