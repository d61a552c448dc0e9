import Console
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PostgresClient
import TestSupport
import Testing

/// Every page over plain HTTP, and the supervision decisions, which go
/// through the api's own functions as the account's staff member.
@Suite struct ConsolePagesTests {
    /// No cookie store: each request carries exactly the cookies a test gives it.
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        return URLSession(configuration: configuration)
    }()

    /// A GET or a form POST with a session's cookie (redirects followed): the final status, URL, page and Set-Cookie.
    static func request(_ base: URL, _ path: String, token: String?, form: [String: String]? = nil, cookie: String? = nil,
                        forwardedFor: String? = nil) async throws -> (status: Int, url: String, body: String, setCookie: String?) {
        var request = URLRequest(url: URL(string: path, relativeTo: base)!)
        request.timeoutInterval = 10
        if let forwardedFor { request.setValue(forwardedFor, forHTTPHeaderField: "X-Forwarded-For") }
        if let cookie = cookie ?? token.map({ "timebank_console=\($0)" }) { request.setValue(cookie, forHTTPHeaderField: "Cookie") }
        if let form {
            request.httpMethod = "POST"
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            request.httpBody = Data(form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
                .joined(separator: "&").utf8)
        }
        let (data, response) = try await session.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, http.url?.path ?? "", String(decoding: data, as: UTF8.self), http.value(forHTTPHeaderField: "Set-Cookie"))
    }

    /// A log-in needs the form its page gave (log-in CSRF); twenty failures from one address block it.
    @Test func logInNeedsItsFormAndIsThrottledPerAddress() async throws {
        try await ConsoleHarness.with { harness in
            try await harness.serving { base in
                let credentials = ["login": "viewer1", "password": ConsoleHarness.password]
                let forged = try await Self.request(base, "/login", token: nil, form: credentials)
                #expect(forged.status == 403, "no form token: refused")
                let page = try await Self.request(base, "/login", token: nil)
                let formToken = try #require(page.body.firstMatch(of: #/name="form" value="([0-9a-f]{64})"/#)?.output.1).description
                #expect(page.setCookie?.contains("timebank_console_form=\(formToken)") == true)
                #expect(page.setCookie?.contains("SameSite=Strict") == true)
                let cookie = "timebank_console_form=\(formToken)"
                let otherForm = try await Self.request(base, "/login", token: nil, form: credentials.merging(["form": String(repeating: "0", count: 64)]) { $1 },
                                                       cookie: cookie)
                #expect(otherForm.status == 403, "another form's token: refused")
                for _ in 1...20 {
                    let failed = try await Self.request(base, "/login", token: nil, form: ["login": "nobody", "password": "guess", "form": formToken],
                                                        cookie: cookie)
                    #expect(failed.status == 401)
                }
                let blocked = try await Self.request(base, "/login", token: nil, form: credentials.merging(["form": formToken]) { $1 }, cookie: cookie)
                #expect(blocked.status == 429, "this address waits, even with the right password")
            }
            let sessions: Int = try await harness.owner.query("SELECT count(*)::integer AS n FROM bank.console_session")[0].decode("n")
            #expect(sessions == 0)
        }
    }

    @Test func everyPageAnswersAndAlertsAreDecidedAsTheAccountsStaffMember() async throws {
        try await ConsoleHarness.with { harness in
            try await harness.owner.executeScript("""
                INSERT INTO bank.staff_member (code, powers) VALUES ('S1', '{dismiss_alert}');
                INSERT INTO bank.alert (kind, subject, people, evidence, evidence_at)
                VALUES ('late_night_service', 'late_night:41', '{101,102}', '{"services": [41]}', now()),
                       ('frequent_gifts', 'gifts:103', '{103}', '{"transfers": [7, 8, 9]}', now());
                """)
            _ = try await ConsoleAccounts.add(harness.owner, login: "supervisor1", power: "operator", password: ConsoleHarness.password,
                                              staffCode: "S1")
            let alerts: [Int64] = try await harness.owner.query("SELECT id FROM bank.alert ORDER BY id").map { try $0.decode("id") }
            let console = try await harness.connectAsConsole()
            let viewer = try #require(try await harness.logIn(console, "viewer1"))
            let plainOperator = try #require(try await harness.logIn(console, "operator1"))
            let supervisor = try #require(try await harness.logIn(console, "supervisor1"))
            await console.close()
            try await harness.serving { base in
                for path in ["/", "/jobs", "/jobs?queue=\(ConsoleHarness.queue)&state=discarded", "/jobs/\(harness.failedJob)", "/queues",
                             "/deliveries", "/deliveries/1", "/claims", "/claims?state=sent", "/claims/1", "/alerts", "/alerts?status=",
                             "/ledger", "/activity"] {
                    let page = try await Self.request(base, path, token: viewer.token)
                    #expect(page.status == 200, "\(path): \(page.status)")
                    #expect(page.body.contains("viewer1 · 只读 viewer"), "\(path)")
                }
                #expect(try await Self.request(base, "/jobs/999999", token: viewer.token).status == 404)
                #expect(try await Self.request(base, "/jobs", token: nil).url == "/login", "no session: the log-in page")
                #expect(try await Self.request(base, "/alerts", token: viewer.token).body.contains("101, 102"), "the people's ids")

                // An operator whose account names no staff member: the api refuses (409), the alert stays open.
                let refused = try await Self.request(base, "/alerts/\(alerts[0])/dismiss", token: plainOperator.token,
                                                     form: ["csrf": plainOperator.csrf, "reason": "checked", "back": "/alerts"])
                #expect(refused.status == 409)
                #expect(refused.body.contains("no active staff member"))
                // A dismissal needs its reason (400), and is then made as staff member S1.
                let noReason = try await Self.request(base, "/alerts/\(alerts[0])/dismiss", token: supervisor.token,
                                                      form: ["csrf": supervisor.csrf, "back": "/alerts"])
                #expect(noReason.status == 400)
                let dismissed = try await Self.request(base, "/alerts/\(alerts[0])/dismiss", token: supervisor.token,
                                                       form: ["csrf": supervisor.csrf, "reason": "a night shift agreed with the family", "back": "/alerts"])
                #expect(dismissed.status == 200 && dismissed.body.contains("已驳回 Dismissed"))
            }
            let decision = try await harness.owner.query("SELECT status, decided_by FROM bank.alert WHERE id = $1", [alerts[0]])[0]
            #expect(try decision.decode("status", as: String.self) == "dismissed")
            #expect(try decision.decode("decided_by", as: String.self) == "S1")
            let act: Int = try await harness.owner.query(
                "SELECT count(*)::integer AS n FROM bank.staff_act WHERE alert_id = $1 AND power = 'dismiss_alert'", [alerts[0]])[0].decode("n")
            #expect(act == 1, "recorded as the staff member's act too")
            #expect(try await harness.owner.query("SELECT status FROM bank.alert WHERE id = $1", [alerts[1]])[0].decode("status", as: String.self) == "open")
        }
    }

    /// Behind the trusted proxy, the throttle counts the client its
    /// X-Forwarded-For appends last, so one client's failures do not lock out the others.
    @Test func behindTheTrustedProxyTheThrottleCountsEachClient() async throws {
        try await ConsoleHarness.with { harness in
            try await harness.serving(trustedProxy: "127.0.0.1") { base in
                let page = try await Self.request(base, "/login", token: nil)
                let formToken = try #require(page.body.firstMatch(of: #/name="form" value="([0-9a-f]{64})"/#)?.output.1).description
                let cookie = "timebank_console_form=\(formToken)"
                func logIn(_ login: String, _ password: String, from client: String) async throws -> Int {
                    try await Self.request(base, "/login", token: nil, form: ["login": login, "password": password, "form": formToken],
                                           cookie: cookie, forwardedFor: client).status
                }
                // The client's own entries come first; the proxy appends the address it saw.
                for _ in 1...20 { #expect(try await logIn("nobody", "guess", from: "198.51.100.7, 10.0.0.1") == 401) }
                #expect(try await logIn("viewer1", ConsoleHarness.password, from: "198.51.100.8, 10.0.0.1") == 429, "10.0.0.1 is blocked")
                #expect(try await logIn("viewer1", ConsoleHarness.password, from: "10.0.0.2") == 200, "another client is not")
            }
        }
    }
}
