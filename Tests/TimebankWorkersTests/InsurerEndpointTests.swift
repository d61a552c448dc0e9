import DevCluster
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PostgresClient
import TestSupport
import Testing
import TimebankDatabase
import TimebankOperations
import TimebankWorkers

/// Issue 17: the insurers' endpoint, served by a running insurance-claim
/// worker (`--http-port`), called over real HTTP.
struct InsurerEndpointClient {
    let port: Int

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
    }

    /// The port a worker started with `--http-port 0` says its endpoint listens on.
    static func start(_ settings: ConnectionSettings, _ arguments: [String] = []) async throws -> (WorkerProcess, InsurerEndpointClient) {
        let worker = try WorkerProcess.start("insurance-claim-worker", settings, ["--http-port", "0", "--poll-milliseconds", "100"] + arguments)
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let line = worker.output.split(separator: "\n").first(where: { $0.contains("serving the insurers' endpoint") }),
               let range = line.range(of: #"port=(\d+)"#, options: .regularExpression) {
                return (worker, InsurerEndpointClient(port: Int(line[range].dropFirst("port=".count))!))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TimedOut(what: "the insurers' endpoint port in \(worker.log)")
    }

    func send(_ method: String = "POST", _ path: String = "/timebank/claims/status", headers: [String: String] = [:], body: Data = Data()) async throws -> Answer {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 10
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if !body.isEmpty { request.httpBody = body }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
        return Answer(status: http.statusCode, headers: fields, body: data)
    }

    /// A callback from `insurer`, signed with `secret` (nil: sent with `signature` as given).
    func callback(_ body: String, insurer: String = "picc", secret: String?, signature: String? = nil) async throws -> Answer {
        var headers = ["X-Timebank-Insurer": insurer, "Content-Type": "application/json"]
        headers["X-Timebank-Signature"] = signature ?? secret.map { "sha256=" + Self.hmac(body, $0) }
        return try await send(headers: headers, body: Data(body.utf8))
    }

    /// What `openssl dgst -sha256 -hmac` gives, as the README's example does it.
    static func hmac(_ body: String, _ secret: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["dgst", "-sha256", "-hmac", secret, "-r"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try! process.run()
        input.fileHandleForWriting.write(Data(body.utf8))
        try! input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.prefix { $0 != " " })
    }
}

extension BankSuites {
    @Suite struct InsurerEndpointTests {
        let secret = "picc-shared-secret-0123456789"

        /// Claims of R25 volunteers, sent to picc (the test receiver stands for it).
        func sentClaims(_ bank: Bank, receiver: TestReceiver, serials: [Int]) async throws -> [Int64] {
            try await bank.setInsurer("picc", organisations: ["Chaoyang Volunteers Association"], receiver: receiver, secret: secret)
            var claims: [Int64] = []
            for serial in serials {
                let elder = try await bank.registerElder(serial)
                let volunteer = try await bank.registerVolunteer(serial + 1)
                try await bank.insure(volunteer)
                let service = try await bank.served(elder: elder, volunteer: volunteer)
                let outcome = try await bank.reportAccident(service, volunteer, minutesAfterCheckIn: 20)
                let claim = try #require(outcome.result["claim_id"], "\(outcome.refusal ?? "")")
                try await bank.eventually("(SELECT state FROM bank.accident_claim WHERE id = $1) = 'sent'", [claim])
                claims.append(claim)
            }
            return claims
        }

        @Test func r26ACallbackOverHTTPChangesTheClaimAndTheSameEventTwiceIsOneChange() async throws {
            let receiver = try await TestReceiver.start()
            try await Bank.with(runtime: try receiverRuntime(receiver)) { bank in
                let claim = try await sentClaims(bank, receiver: receiver, serials: [61])[0]
                try await WorkerProcess.killingOnFailure {
                    let (worker, endpoint) = try await InsurerEndpointClient.start(bank.database.settings)
                    let received = #"{"event_id": "h1", "claim_id": \#(claim), "status": "received"}"#
                    let first = try await endpoint.callback(received, secret: secret)
                    #expect(first.status == 200)
                    #expect(first.json["state"] as? String == "received" && first.json["duplicate"] as? Bool == false, "\(first.json)")
                    #expect(first.headers["content-type"] == "application/json")
                    let events = try await bank.count("bank.claim_event WHERE claim_id = $1", [claim])
                    let again = try await endpoint.callback(received, secret: secret)
                    #expect(again.status == 200 && again.json["duplicate"] as? Bool == true, "\(again.json)")
                    #expect(try await bank.count("bank.claim_event WHERE claim_id = $1", [claim]) == events, "one change")
                    // A body that breaks the schema is refused even under an event id already applied
                    // (schemathesis: an unknown status under a seen id was answered 200, duplicate).
                    let broken = try await endpoint.callback(#"{"event_id": "h1", "claim_id": \#(claim), "status": "__not_in_enum__"}"#, secret: secret)
                    #expect(broken.status == 422 && broken.json["field"] as? String == "status", "\(broken.status) \(broken.json)")
                    let approved = try await endpoint.callback(#"{"event_id": "h2", "claim_id": \#(claim), "status": "approved", "amount": 880.5}"#, secret: secret)
                    #expect(approved.status == 200 && approved.json["state"] as? String == "approved")
                    #expect(try await bank.claimState(claim) == "approved")
                    // Each request is one log line, with no body.
                    #expect(worker.output.contains("insurer callback request") && !worker.output.contains("880.5"))
                    worker.signal(SIGTERM)
                    #expect(await worker.wait() == 0)
                }
            }
            await receiver.stop()
        }

        @Test func r26AForgedReplayedOversizedOrMalformedCallbackChangesNothingAndGetsTheDocumentedStatus() async throws {
            let receiver = try await TestReceiver.start()
            try await Bank.with(runtime: try receiverRuntime(receiver)) { bank in
                let claim = try await sentClaims(bank, receiver: receiver, serials: [63])[0]
                try await WorkerProcess.killingOnFailure {
                    let (worker, endpoint) = try await InsurerEndpointClient.start(bank.database.settings, ["--callback-body-limit", "4096"])
                    let paid = #"{"event_id": "f1", "claim_id": \#(claim), "status": "received"}"#
                    let before = try await bank.count("bank.claim_event WHERE claim_id = $1", [claim])

                    // Forged: a wrong secret, an unknown insurer, a code that cannot be one, no signature,
                    // another form of it. The same 401 bytes for each: nothing to probe.
                    let forgeries = [
                        try await endpoint.callback(paid, secret: "not-the-secret-0123456789"),
                        try await endpoint.callback(paid, insurer: "nobody", secret: secret),
                        try await endpoint.callback(paid, insurer: "PICC; DROP", secret: secret),
                        try await endpoint.send(headers: ["X-Timebank-Insurer": "picc"], body: Data(paid.utf8)),
                        try await endpoint.callback(paid, secret: nil, signature: InsurerEndpointClient.hmac(paid, secret)),
                    ]
                    for forged in forgeries {
                        #expect(forged.status == 401)
                        #expect(forged.body == forgeries[0].body)
                    }
                    #expect(forgeries[0].json["field"] as? String == "X-Timebank-Signature")

                    // Replayed with a body changed under the old signature: the signature no longer matches.
                    let tampered = paid.replacingOccurrences(of: "received", with: "rejected")
                    #expect(try await endpoint.callback(tampered, secret: nil, signature: "sha256=" + InsurerEndpointClient.hmac(paid, secret)).status == 401)

                    // Oversized: refused unread.
                    let large = #"{"event_id": "f2", "claim_id": \#(claim), "status": "more_documents", "documents": ["\#(String(repeating: "x", count: 5000))"]}"#
                    let tooLarge = try await endpoint.callback(large, secret: secret)
                    #expect(tooLarge.status == 413 && tooLarge.json["field"] as? String == "body", "\(tooLarge.status) \(tooLarge.json)")

                    // Malformed, and what the claim's state forbids: 422 naming the field.
                    for (body, field) in [("{not json", "body"), (#"{"claim_id": \#(claim), "status": "received"}"#, "event_id"),
                                          (#"{"event_id": "f3", "claim_id": 1e30, "status": "received"}"#, "claim_id"),
                                          (#"{"event_id": "f3", "claim_id": \#(claim), "status": "paid", "amount": 10}"#, "status"),
                                          (#"{"event_id": "f3", "claim_id": \#(claim), "status": "approved", "amount": 1e12}"#, "amount")] {
                        let refused = try await endpoint.callback(body, secret: secret)
                        #expect(refused.status == 422, "\(body): \(refused.status)")
                        #expect(refused.json["field"] as? String == field && refused.json["rule"] as? String == "R26", "\(body): \(refused.json)")
                    }
                    #expect(try await bank.count("bank.claim_event WHERE claim_id = $1", [claim]) == before, "nothing changed")
                    #expect(try await bank.claimState(claim) == "sent")

                    // Another method: 405 naming POST. The contract: the file in docs/, served as it is.
                    let put = try await endpoint.send("PUT")
                    #expect(put.status == 405 && put.headers["allow"] == "POST")
                    let served = try await endpoint.send("GET", "/openapi.yaml")
                    let root = try Migration.defaultDirectory().deletingLastPathComponent()
                    let documented = try Data(contentsOf: root.appendingPathComponent("docs/insurer-api.yaml"))
                    #expect(served.status == 200 && served.body == documented)
                    worker.signal(SIGTERM)
                    #expect(await worker.wait() == 0)
                }
            }
            await receiver.stop()
        }

        /// The endpoint's process is the insurance-claim worker: attacked as that login, it can
        /// apply only what an insurer signed (it reads no secret), and no other login applies any.
        @Test func r26OnlyTheInsuranceClaimLoginAppliesCallbacksAndEvenItCannotForgeOne() async throws {
            let receiver = try await TestReceiver.start()
            try await Bank.with(runtime: try receiverRuntime(receiver)) { bank in
                let claim = try await sentClaims(bank, receiver: receiver, serials: [69])[0]
                let forged = #"{"event_id": "x1", "claim_id": \#(claim), "status": "approved", "amount": 999999}"#
                let call = "SELECT * FROM bank.insurer_callback('picc', '\(forged)', 'sha256=' || repeat('0', 64))"
                for role in ["timebank_api", "timebank_settlement", "timebank_notification", "timebank_analyst", "timebank_staff"] {
                    try await bank.asLogin(memberOf: [role]) { connection in try await expectRefused(connection, [call]) }
                }
                try await bank.asLogin(memberOf: ["timebank_insurance_claim"]) { connection in
                    let forgery = try await #require(throws: PostgresError.self) { try await connection.query(call) }
                    #expect(forgery.code?.rawValue == "28000", "\(forgery)")
                    try await expectRefused(connection, ["SELECT secret FROM bank.insurer"])
                }
                #expect(try await bank.claimState(claim) == "sent")
            }
            await receiver.stop()
        }

        @Test func r26AnInsurerOverItsRateIsToldToWaitAndDoesNotSlowTheOthers() async throws {
            try await Bank.with(workers: false) { bank in
                let receiver = try await TestReceiver.start()
                try await bank.setInsurer("picc", organisations: ["Chaoyang Volunteers Association"], receiver: receiver, secret: secret)
                try await bank.setInsurer("cpic", organisations: ["Haidian Volunteers"], receiver: receiver, secret: "cpic-shared-secret-0123456789")
                try await WorkerProcess.killingOnFailure {
                    let (worker, endpoint) = try await InsurerEndpointClient.start(bank.database.settings, ["--callback-rate", "0.2", "--callback-burst", "2"])
                    let body = #"{"event_id": "r1", "claim_id": 424242, "status": "received"}"#
                    // Within the burst: the database answers (no such claim).
                    #expect(try await endpoint.callback(body, secret: secret).status == 422)
                    #expect(try await endpoint.callback(body, secret: secret).status == 422)
                    let limited = try await endpoint.callback(body, secret: secret)
                    #expect(limited.status == 429, "\(limited.status)")
                    #expect(Int(limited.headers["retry-after"] ?? "") ?? 0 >= 1)
                    // Another insurer has its own allowance.
                    #expect(try await endpoint.callback(body, insurer: "cpic", secret: "cpic-shared-secret-0123456789").status == 422)
                    worker.signal(SIGTERM)
                    #expect(await worker.wait() == 0)
                }
                await receiver.stop()
            }
        }

        @Test func whileTheDatabaseIsAwayTheEndpointAnswers503AndRecoversWithIt() async throws {
            try await ScratchCluster.with("endpoint") { cluster, url in
            let admin = try await PostgresConnection.connect(ConnectionSettings(conninfo: url))
            try await InsurerAdmin.set(admin, InsurerAdmin.Insurer(code: "picc", name: "picc", organisations: [], claimsURL: "http://127.0.0.1:9/claims",
                                                                   exportURL: nil, timeoutMilliseconds: 1000), secret: secret)
            await admin.close()
            try await WorkerProcess.killingOnFailure {
                let (worker, endpoint) = try await InsurerEndpointClient.start(ConnectionSettings(conninfo: url))
                let body = #"{"event_id": "d1", "claim_id": 424242, "status": "received"}"#
                #expect(try await endpoint.callback(body, secret: secret).status == 422, "the database answers")
                try cluster.stop()
                let away = try await endpoint.callback(body, secret: secret)
                #expect(away.status == 503 && away.headers["retry-after"] == "5", "\(away.status) \(away.json)")
                try await cluster.start()
                let deadline = ContinuousClock.now + .seconds(20)
                var status = 0
                while ContinuousClock.now < deadline {
                    status = try await endpoint.callback(body, secret: secret).status
                    if status == 422 { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(status == 422, "back with the database")
                worker.signal(SIGTERM)
                #expect(await worker.wait() == 0)
            }
            }
        }
        /// schemathesis (PyPI; `scripts/install-deps` puts it in /opt/schemathesis) against the
        /// served spec, every check: no 5xx, every status, header and body as documented. Its
        /// hooks (Schemathesis/timebank_signing.py) sign most requests so that they reach the
        /// database, half of them about the test's real claims.
        @Test func schemathesisFindsNoFailureAgainstTheServedSpecification() async throws {
            let schemathesis = ProcessInfo.processInfo.environment["TIMEBANK_SCHEMATHESIS"] ?? "/opt/schemathesis/bin/schemathesis"
            #expect(FileManager.default.isExecutableFile(atPath: schemathesis), "schemathesis is missing: run scripts/install-deps")
            let receiver = try await TestReceiver.start()
            try await Bank.with(runtime: try receiverRuntime(receiver)) { bank in
                let claims = try await sentClaims(bank, receiver: receiver, serials: [65, 67])
                try await WorkerProcess.killingOnFailure {
                    let (worker, endpoint) = try await InsurerEndpointClient.start(
                        bank.database.settings, ["--callback-rate", "10000", "--callback-burst", "10000"])
                    let hooks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Schemathesis")
                    let base = "http://127.0.0.1:\(endpoint.port)"
                    var environment = ProcessInfo.processInfo.environment
                    environment["PYTHONPATH"] = hooks.path
                    environment["SCHEMATHESIS_HOOKS"] = "timebank_signing"
                    environment["PYTHONDONTWRITEBYTECODE"] = "1"
                    environment["TIMEBANK_CALLBACK_SECRET"] = secret
                    environment["TIMEBANK_CALLBACK_CLAIMS"] = claims.map(String.init).joined(separator: ",")
                    // Spawned and awaited, not run on a thread of the cooperative pool: it takes a minute.
                    let log = "/tmp/schemathesis-\(UUID().uuidString.prefix(8)).log"
                    let pid = try ChildProcess.spawn(schemathesis, [
                        "--config-file", hooks.appendingPathComponent("schemathesis.toml").path, "--no-color",
                        "run", "\(base)/openapi.yaml", "--url", base, "--include-operation-id", "claimStatusCallback",
                        "--checks", "all", "--max-examples", "80", "--max-time", "60", "--seed", "17",
                    ], environment: environment, logFile: log)
                    let run = (status: await ChildProcess.exitStatus(of: pid), output: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
                    let summary = run.output.split(separator: "\n").filter { $0.contains("generated") || $0.contains("failure") || $0.contains("passed") }
                    print("schemathesis: \(summary.joined(separator: " | "))")
                    #expect(run.status == 0, "\(run.output.suffix(6000))")
                    // The run reached the database and changed claims, not only 401s.
                    let statuses = worker.output.split(separator: "\n").compactMap { line in
                        line.range(of: #"status=(\d+)"#, options: .regularExpression).map { String(line[$0].dropFirst("status=".count)) }
                    }
                    print("schemathesis: the endpoint answered \(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count).sorted { $0.key < $1.key })")
                    #expect(statuses.contains("200") && statuses.contains("422") && statuses.contains("401"))
                    #expect(!statuses.contains { $0.hasPrefix("5") })
                    #expect(try await bank.ledgerProblems().isEmpty)
                    worker.signal(SIGTERM)
                    #expect(await worker.wait() == 0)
                }
            }
            await receiver.stop()
        }
    }
}
