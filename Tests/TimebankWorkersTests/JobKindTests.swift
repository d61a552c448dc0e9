import Foundation
import JobEngine
import TimebankDatabase
import TimebankWorkers
import Testing

/// `WorkerKind` is the one list of job kinds and their queues: every kind
/// that SQL or Swift enqueues is served by exactly one worker kind, on the
/// queue it is enqueued to, and each worker's registry serves exactly the
/// kinds it lists (its `--help`).
@Suite struct JobKindTests {
    /// One enqueue seen in the source: the kind and queue, where known (nil: not a literal).
    struct Enqueue: CustomStringConvertible {
        var kind: String?
        var queue: String?
        /// The kind as written (a literal, or the parameter it forwards).
        var kindExpression: String
        var expression: String
        var place: String
        var description: String { "\(place): \(expression)" }
    }

    /// The parameters the engine's own functions and `bank.submit` pass on:
    /// the only enqueues whose kind is not written where they are made.
    static let forwardedKinds: Set<String> = ["enqueue.kind", "enqueue_many.kind", "enqueue_own.kind", "enqueue_many_own.kind", "job_kind"]

    static var repository: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    /// Every `.sql` file under sql/, in any subfolder, but privileges/ (whose
    /// GRANTs list the engine's functions' signatures, and enqueue nothing).
    static func sqlFiles() throws -> [URL] {
        let root = try Migration.defaultDirectory()
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        return files.filter { $0.pathExtension == "sql" && !$0.path.contains("/privileges/") }.sorted { $0.path < $1.path }
    }

    /// The Swift that enqueues domain jobs: everything but the engine's own
    /// API, the test worker and the benchmarks (which enqueue the test worker's kinds).
    static func swiftFiles() -> [URL] {
        let sources = repository.appendingPathComponent("Sources")
        let excluded = ["JobEngine", "test-worker", "job-bench", "settle-bench", "driver-bench"]
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        return files.filter { file in
            file.pathExtension == "swift" && !excluded.contains(file.path.dropFirst(sources.path.count + 1).split(separator: "/").first.map(String.init) ?? "")
        }.sorted { $0.path < $1.path }
    }

    static func enqueues(in file: URL) throws -> [Enqueue] {
        let name = file.path.replacingOccurrences(of: repository.path + "/", with: "")
        let text = SQLText.withoutLineComments(try String(contentsOf: file, encoding: .utf8))
        var found: [Enqueue] = []
        // jobs.enqueue[_own](kind, args, queue, ...), jobs.enqueue_many[_own](kind, args, queue, ...), bank.submit(kind, args, job_kind, queue)
        for (call, kindAt, queueAt) in [("jobs.enqueue(", 0, 2), ("jobs.enqueue_many(", 0, 2), ("jobs.enqueue_own(", 0, 2),
                                        ("jobs.enqueue_many_own(", 0, 2), ("bank.submit(", 2, 3)] {
            for range in text.ranges(of: call) {
                let before = text[..<range.lowerBound].suffix(9)
                if before.hasSuffix("FUNCTION ") { continue }  // its definition, a GRANT or REVOKE
                let arguments = SQLText.arguments(text[range.upperBound...])
                guard arguments.count > kindAt else { continue }
                let named = Dictionary(arguments.compactMap(SQLText.namedArgument), uniquingKeysWith: { first, _ in first })
                let queue = named["queue"] ?? (arguments.count > queueAt ? arguments[queueAt] : "'default'")
                found.append(Enqueue(kind: SQLText.literal(arguments[kindAt]), queue: SQLText.literal(queue), kindExpression: arguments[kindAt],
                                     expression: "\(call)\(arguments[kindAt]), ..., \(queue))", place: name))
            }
        }
        // INSERT INTO jobs.job (kind, ..., queue, ...) SELECT|VALUES ('...', ..., '...', ...)
        for range in text.ranges(of: "INSERT INTO jobs.job") {
            let rest = text[range.upperBound...].drop { $0 == " " || $0 == "\n" }
            guard rest.first == "(" else { continue }
            let columns = SQLText.arguments(rest.dropFirst())
            var values = rest.dropFirst(SQLText.closing(rest.dropFirst()) + 2).drop { $0.isWhitespace }
            if values.hasPrefix("VALUES") {
                values = values.dropFirst(6).drop { $0.isWhitespace }.dropFirst()
            } else if values.hasPrefix("SELECT") {
                values = values.dropFirst(6)
            } else { continue }
            let list = SQLText.arguments(values, untilFrom: true)
            guard let kindAt = columns.firstIndex(of: "kind"), kindAt < list.count else { continue }
            let queue = columns.firstIndex(of: "queue").flatMap { $0 < list.count ? list[$0] : nil } ?? "'default'"
            found.append(Enqueue(kind: SQLText.literal(list[kindAt]), queue: SQLText.literal(queue), kindExpression: list[kindAt],
                                 expression: "INSERT INTO jobs.job (\(list[kindAt]), ..., \(queue))", place: name))
        }
        // Swift: NewJob(kind: "...", ..., queue: "...")
        for range in text.ranges(of: "NewJob(kind: \"") {
            let kind = text[range.upperBound...].prefix { $0 != "\"" }
            let rest = text[range.upperBound...].prefix { $0 != "\n" }
            let queue = rest.range(of: "queue: \"").map { rest[$0.upperBound...].prefix { $0 != "\"" } }.map(String.init)
            found.append(Enqueue(kind: String(kind), queue: queue ?? "default", kindExpression: "\"\(kind)\"", expression: "NewJob(kind: \"\(kind)\")", place: name))
        }
        return found
    }

    @Test func everyKindEnqueuedAnywhereIsServedByExactlyOneWorkerOnItsQueue() throws {
        let sql = try Self.sqlFiles()
        #expect(sql.count >= 20, "the migrations were not found")
        // The periodic jobs each worker kind declares, which the engine enqueues (PeriodicEnqueuer).
        let periodic = WorkerKind.allCases.flatMap { worker in
            worker.periodicJobs.map { Enqueue(kind: $0.kind, queue: $0.queue, kindExpression: "\"\($0.kind)\"",
                                              expression: "PeriodicJob(kind: \"\($0.kind)\")", place: "\(worker).periodicJobs") }
        }
        let enqueues = try (sql + Self.swiftFiles()).flatMap(Self.enqueues(in:)) + periodic
        let literal = enqueues.filter { $0.kind != nil }
        // What the scan must see, so that a change to its patterns cannot silently find nothing.
        for kind in ["enrollment.register_person", "order.check_out", "settlement.settle", "notify.deliver", "claims.send", "claims.sample",
                     "claims.export_day", "supervision.scan", "notify.dispatch", "enrollment.import_registry"] {
            #expect(literal.contains { $0.kind == kind }, "no enqueue of \(kind) found")
        }
        for enqueue in enqueues where enqueue.kind == nil {
            #expect(Self.forwardedKinds.contains(enqueue.kindExpression), "an enqueue whose kind this test cannot read: \(enqueue)")
        }
        for enqueue in literal {
            let kind = enqueue.kind!
            let serving = WorkerKind.allCases.filter { $0.jobKinds.contains(kind) }
            #expect(serving.count == 1, "\(kind) is served by \(serving.map(\.executable)) (\(enqueue))")
            if let worker = serving.first, serving.count == 1 {
                #expect(enqueue.queue == worker.queue, "\(kind) is enqueued to \(enqueue.queue ?? "a computed queue"), \(worker.executable) claims from \(worker.queue) (\(enqueue))")
            }
        }
    }

    @Test func eachWorkersRegistryServesExactlyTheKindsItLists() throws {
        let runtime = try WorkerRuntime(channels: .file(at: "/dev/null"))
        var seen: [String: WorkerKind] = [:]
        for worker in WorkerKind.allCases {
            #expect(try worker.registry(runtime).kinds == worker.jobKinds, "\(worker.executable)")
            #expect(worker.configuration().queues == [worker.queue])
            for kind in worker.jobKinds {
                #expect(seen[kind] == nil, "\(kind) is listed by \(seen[kind]?.executable ?? "") and \(worker.executable)")
                seen[kind] = worker
            }
        }
        #expect(Set(WorkerKind.allCases.map(\.queue)).count == WorkerKind.allCases.count, "two workers share a queue")
    }

    @Test func theScanReadsEachFormOfEnqueue() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("job-kinds-\(UUID()).sql")
        defer { try? FileManager.default.removeItem(at: file) }
        try """
            CREATE FUNCTION jobs.enqueue(kind text) ...;  -- jobs.enqueue('in a comment', '{}', 'x')
            PERFORM jobs.enqueue('a.one', jsonb_build_object('id', f(x, y)), 'a', unique_key => 'k:' || id);
            PERFORM jobs.enqueue('b.two', '{}', queue => 'b');
            RETURN bank.submit('thing', jsonb_build_object('x', 1), 'c.three', 'c');
            INSERT INTO jobs.job (kind, args, queue, state)
            SELECT 'd.four', jsonb_build_object('id', m.id), 'd', 'available' FROM m;
            INSERT INTO jobs.job (args, kind) VALUES ('{}', 'e.five');
            """.write(to: file, atomically: true, encoding: .utf8)
        let found = try Self.enqueues(in: file).map { "\($0.kind ?? "?")@\($0.queue ?? "?")" }
        #expect(found.sorted() == ["a.one@a", "b.two@b", "c.three@c", "d.four@d", "e.five@default"])
    }
}

/// Just enough SQL reading for the scan: literals, comments, argument lists.
enum SQLText {
    /// The text without `-- ...` comments (outside string literals).
    static func withoutLineComments(_ text: String) -> String {
        var out = "", inString = false, chars = Array(text), i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "'" { inString.toggle() }
            if !inString, c == "-", i + 1 < chars.count, chars[i + 1] == "-" {
                while i < chars.count, chars[i] != "\n" { i += 1 }
                continue
            }
            if c == "\n" { inString = false }  // a literal does not span lines in these files
            out.append(c)
            i += 1
        }
        return out
    }

    /// The top-level, comma-separated arguments up to the parenthesis that
    /// closes the list (or, with `untilFrom`, up to a top-level FROM or `;`).
    static func arguments(_ text: Substring, untilFrom: Bool = false) -> [String] {
        var arguments: [String] = [], current = "", depth = 0, inString = false
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            if c == "'" { inString.toggle() }
            if !inString {
                if untilFrom, depth == 0, c == ";" || (c.isWhitespace && text[text.index(after: index)...].drop(while: \.isWhitespace).hasPrefix("FROM")) {
                    break
                }
                if c == "(" { depth += 1 }
                if c == ")" {
                    if depth == 0 { break }
                    depth -= 1
                }
                if c == ",", depth == 0 {
                    arguments.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                    current = ""
                    index = text.index(after: index)
                    continue
                }
            }
            current.append(c)
            index = text.index(after: index)
        }
        let last = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !last.isEmpty { arguments.append(last) }
        return arguments
    }

    /// How many characters up to the parenthesis that closes the list `text` starts inside.
    static func closing(_ text: Substring) -> Int {
        var depth = 0, inString = false, count = 0
        for c in text {
            if c == "'" { inString.toggle() }
            if !inString {
                if c == "(" { depth += 1 }
                if c == ")" {
                    if depth == 0 { return count }
                    depth -= 1
                }
            }
            count += 1
        }
        return count
    }

    /// `name => value` as (name, value).
    static func namedArgument(_ argument: String) -> (String, String)? {
        guard let arrow = argument.range(of: "=>") else { return nil }
        return (argument[..<arrow.lowerBound].trimmingCharacters(in: .whitespaces), argument[arrow.upperBound...].trimmingCharacters(in: .whitespaces))
    }

    /// The text of a plain string literal, else nil.
    static func literal(_ expression: String) -> String? {
        guard expression.count >= 2, expression.hasPrefix("'"), expression.hasSuffix("'") else { return nil }
        let inner = expression.dropFirst().dropLast()
        return inner.contains("'") ? nil : String(inner)
    }
}
