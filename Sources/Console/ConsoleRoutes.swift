import FlyingFox
import Foundation
import JobEngine
import Logging
import TimebankOperations

/// Every page and form of the console. GETs read; POSTs act through the
/// database's session-checked functions, then redirect (303) back to the
/// page with a notice, or answer a clear 403 (no session, no power, a
/// wrong CSRF token) or 409 (the act's own refusal).
struct ConsoleRoutes: HTTPHandler {
    static let cookieName = "timebank_console"

    let store: ConsoleStore
    let throttle: LogInThrottle
    let secureCookie: Bool
    /// The reverse proxy's address, whose X-Forwarded-For names the client (nil: no proxy is trusted).
    let trustedProxy: String?
    let logger: Logger

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        do {
            let response = try await route(request)
            logger.info("request", metadata: ["method": "\(request.method.rawValue)", "path": "\(request.path)",
                                              "status": "\(response.statusCode.code)"])
            return response
        } catch {
            // Details to the log (the operator's own SQL text never reaches it: every statement is parameterised).
            logger.error("request failed", metadata: ["method": "\(request.method.rawValue)", "path": "\(request.path)", "error": "\(error)"])
            return page(500, LoginPage.refusal(status: 500, title: "出错 Internal error", reason: "服务器出错，请稍后再试 The console failed; see its log.",
                                               viewer: nil))
        }
    }

    private func route(_ request: HTTPRequest) async throws -> HTTPResponse {
        let parts = request.path.split(separator: "/").map(String.init)
        switch (request.method, parts.first ?? "") {
        case (.GET, "console.css"): return asset(Assets.stylesheet, type: "text/css; charset=utf-8")
        case (.GET, "console.js"): return asset(Assets.script, type: "text/javascript; charset=utf-8")
        case (.GET, "favicon.ico"): return HTTPResponse(statusCode: .noContent, headers: HTTPHeaders(Self.securityHeaders), body: Data())
        case (.GET, "healthz"): return HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain"], body: Data("ok\n".utf8))
        case (.GET, "login"): return logInForm(200)
        case (.POST, "login"): return try await logIn(request)
        default: break
        }
        let token = HTTPForm.cookie(Self.cookieName, in: request.headers[.cookie]) ?? ""
        guard !token.isEmpty, let viewer = try await store.viewer(token: token) else {
            if request.method == .GET { return redirect("/login") }
            return page(403, LoginPage.refusal(status: 403, title: "禁止 Forbidden", reason: "会话已失效，请重新登录 No live session: log in again.",
                                               viewer: nil, back: "/login"))
        }
        if request.method == .POST {
            return try await post(request, parts: parts, viewer: viewer, token: token)
        }
        guard request.method == .GET else { return page(405, notFound(viewer)) }
        return try await get(request, parts: parts, viewer: viewer)
    }

    // MARK: Pages

    private func get(_ request: HTTPRequest, parts: [String], viewer: Viewer) async throws -> HTTPResponse {
        let notice = Notice.text(action: request.query["done"], target: request.query["target"])
        func filter(_ name: String) -> String? { request.query[name].flatMap { $0.isEmpty ? nil : $0 } }
        switch (parts.first ?? "", parts.count) {
        case ("", 0):
            let (top, latency, ledger) = try await store.read { connection in
                (try await TopSnapshot.take(connection), try await ConsoleReads.settlementLatency(connection),
                 try await ConsoleReads.lastLedgerVerify(connection))
            }
            return page(200, OverviewPage.render(top, latency: latency, ledger: ledger, viewer: viewer, notice: notice))
        case ("jobs", 1):
            let jobFilter = JobsPage.Filter(queue: filter("queue"), kind: filter("kind"), state: filter("state"))
            let jobs = try await store.read { try await JobAdmin.list($0, state: jobFilter.state, queue: jobFilter.queue, kind: jobFilter.kind, limit: 200) }
            return page(200, JobsPage.list(jobs, filter: jobFilter, viewer: viewer, notice: notice))
        case ("jobs", 2):
            guard let id = Int64(parts[1]), let job = try await store.read({ try await JobAdmin.show($0, id: id) }) else { break }
            return page(200, JobsPage.detail(job, viewer: viewer, notice: notice))
        case ("queues", 1):
            let stats = try await store.read { try await JobAdmin.stats($0) }
            return page(200, QueuesPage.render(stats, viewer: viewer, notice: notice))
        case ("deliveries", 1):
            let failed = try await store.read { try await DeliveryAdmin.failed($0, limit: 200) }
            return page(200, DeliveriesPage.list(failed, viewer: viewer, notice: notice))
        case ("deliveries", 2):
            guard let id = Int64(parts[1]) else { break }
            let attempts = try await store.read { try await DeliveryAdmin.attempts($0, message: id) }
            return page(200, DeliveriesPage.detail(message: id, attempts, viewer: viewer, notice: notice))
        case ("claims", 1):
            let state = filter("state")
            let claims = try await store.read { try await ClaimAdmin.list($0, state: state, limit: 200) }
            return page(200, ClaimsPage.list(claims, state: state, viewer: viewer, notice: notice))
        case ("claims", 2):
            guard let id = Int64(parts[1]) else { break }
            let history = try await store.read { try await ClaimAdmin.history($0, claim: id) }
            return page(200, ClaimsPage.detail(claim: id, history, viewer: viewer, notice: notice))
        case ("alerts", 1):
            let status = request.query["status"] == nil ? "open" : filter("status")
            let alerts = try await store.read { try await SupervisionAdmin.alerts($0, status: status, limit: 200) }
            return page(200, AlertsPage.render(alerts, status: status, viewer: viewer, notice: notice))
        case ("ledger", 1):
            let run = try await store.read { try await ConsoleReads.lastLedgerVerify($0) }
            return page(200, LedgerPage.render(run, viewer: viewer))
        case ("activity", 1):
            let acts = try await store.read { try await ConsoleReads.recentActs($0) }
            return page(200, ActivityPage.render(acts, viewer: viewer))
        default: break
        }
        return page(404, notFound(viewer))
    }

    // MARK: Forms

    private func logIn(_ request: HTTPRequest) async throws -> HTTPResponse {
        let address = clientAddress(request)
        if await throttle.isBlocked(address) {
            return logInForm(429, message: "尝试次数过多，请 15 分钟后再试 Too many failed log-ins from this address: try again in 15 minutes.")
        }
        let fields = HTTPForm.fields(try await request.bodyData) ?? [:]
        // Log-in CSRF (another site logging the browser in to an account of its own): the form's
        // token must be the one its page set in a SameSite=Strict cookie, which no other site's post carries.
        guard let formToken = fields["form"], formToken.count == 64,
              HTTPForm.cookie(Self.logInFormCookie, in: request.headers[.cookie]) == formToken else {
            return logInForm(403, message: "表单已过期，请重试 The log-in form expired: try again.")
        }
        guard let login = fields["login"], let password = fields["password"], !login.isEmpty, !password.isEmpty,
              let session = try await store.logIn(login: login, password: password) else {
            await throttle.recordFailure(address)
            return logInForm(401, message: "登录名或密码错误（连续 5 次失败将锁定 15 分钟）Wrong login or password (5 failures lock the account for 15 minutes).")
        }
        await throttle.recordSuccess(address)
        var response = redirect("/")
        response.headers[.setCookie] = cookie(session.token, maxAge: Int(max(0, session.expiresAt.timeIntervalSinceNow)))
        return response
    }

    /// Whom the log-in throttle counts: the socket's peer, or behind the
    /// trusted proxy the last address it appended to X-Forwarded-For (the
    /// header's earlier entries are the client's own to write).
    private func clientAddress(_ request: HTTPRequest) -> String {
        let peer: String = switch request.remoteAddress {
        case .ip4(let ip, _), .ip6(let ip, _): ip
        default: "unknown"
        }
        guard let trustedProxy, peer == trustedProxy,
              let forwarded = request.headers[.xForwardedFor]?.split(separator: ",").last?.trimmingCharacters(in: .whitespaces),
              !forwarded.isEmpty else { return peer }
        return forwarded
    }

    static let logInFormCookie = "timebank_console_form"

    /// The log-in page, with a fresh form token in its field and its cookie.
    private func logInForm(_ status: Int, message: String? = nil) -> HTTPResponse {
        var bytes = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &bytes)) }.joined()
        var response = page(status, LoginPage.render(formToken: token, message: message))
        response.headers[.setCookie] = "\(Self.logInFormCookie)=\(token); Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600"
            + (secureCookie ? "; Secure" : "")
        return response
    }

    private func post(_ request: HTTPRequest, parts: [String], viewer: Viewer, token: String) async throws -> HTTPResponse {
        let fields = HTTPForm.fields(try await request.bodyData) ?? [:]
        let csrf = fields["csrf"] ?? ""
        let back = HTTPForm.localPath(fields["back"])
        if parts == ["logout"] {
            guard try await store.logOut(token: token, csrfToken: csrf) else { return forbidden("表单已过期 The form's CSRF token is not this session's.", viewer) }
            var response = redirect("/login")
            response.headers[.setCookie] = cookie("", maxAge: 0)
            return response
        }
        guard let action = Self.action(parts, fields) else {
            guard parts.count == 3 else { return page(404, notFound(viewer)) }
            return page(400, LoginPage.refusal(status: 400, title: "请求无效 Bad request",
                                               reason: "无法识别的操作或缺少字段 Unknown action, or a field missing (a reason?).", viewer: viewer, back: back))
        }
        let (done, message) = try await store.perform(action, token: token, csrfToken: csrf)
        logger.info("console action", metadata: ["login": "\(viewer.login)", "action": "\(parts.joined(separator: "/"))", "done": "\(done)"])
        if done {
            let separator = back.contains("?") ? "&" : "?"
            return redirect(back + separator + "done=\(parts[2])&target=\(HTTPForm.percentEncoded(parts[1]))")
        }
        if Notice.isPermissionRefusal(message) { return forbidden(message, viewer) }
        return page(409, LoginPage.refusal(status: 409, title: "未执行 Not done", reason: message, viewer: viewer, back: back))
    }

    /// `/jobs/7/retry` and its form's fields as an action; nil when it is none.
    static func action(_ parts: [String], _ fields: [String: String]) -> ConsoleStore.Action? {
        guard parts.count == 3 else { return nil }
        let id = Int64(parts[1])
        switch (parts[0], parts[2]) {
        case ("jobs", "retry"): return id.map { .retryJob($0) }
        case ("jobs", "cancel"): return id.map { .cancelJob($0) }
        case ("queues", "pause"): return .setQueuePaused(parts[1], true)
        case ("queues", "resume"): return .setQueuePaused(parts[1], false)
        case ("deliveries", "retry"): return id.map { .retryDelivery($0) }
        case ("claims", "resend"): return id.map { .resendClaim($0) }
        case ("alerts", "dismiss"):
            guard let id, let reason = fields["reason"], !reason.isEmpty else { return nil }
            return .dismissAlert(id, reason: reason)
        case ("alerts", "confirm"):
            guard let id, let person = fields["person"].flatMap({ Int64($0) }), let reason = fields["reason"], !reason.isEmpty else { return nil }
            // The services whose coins are taken back: ids separated by commas or spaces (none: only the listing).
            let listed = (fields["services"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " })
            let services = listed.compactMap { Int64($0) }
            guard services.count == listed.count else { return nil }
            return .confirmFraud(alert: id, person: person, reason: reason, services: services)
        default: return nil
        }
    }

    // MARK: Responses

    private func forbidden(_ reason: String, _ viewer: Viewer) -> HTTPResponse {
        page(403, LoginPage.refusal(status: 403, title: "禁止 Forbidden", reason: reason, viewer: viewer))
    }

    private func notFound(_ viewer: Viewer?) -> HTML {
        LoginPage.refusal(status: 404, title: "未找到 Not found", reason: "没有这个页面或对象 No such page or object.", viewer: viewer)
    }

    private func cookie(_ value: String, maxAge: Int) -> String {
        "\(Self.cookieName)=\(value); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)" + (secureCookie ? "; Secure" : "")
    }

    /// Every response: no caching of pages that hold ids, no framing, scripts and styles of this origin only.
    static let securityHeaders: [HTTPHeader: String] = [
        HTTPHeader("Content-Security-Policy"): "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        HTTPHeader("X-Frame-Options"): "DENY", HTTPHeader("X-Content-Type-Options"): "nosniff",
        HTTPHeader("Referrer-Policy"): "no-referrer", .cacheControl: "no-store",
    ]

    private func page(_ status: Int, _ html: HTML) -> HTTPResponse {
        var headers = HTTPHeaders(Self.securityHeaders)
        headers[.contentType] = "text/html; charset=utf-8"
        return HTTPResponse(statusCode: Self.status(status), headers: headers, body: Data(html.raw.utf8))
    }

    private func redirect(_ location: String) -> HTTPResponse {
        var headers = HTTPHeaders(Self.securityHeaders)
        headers[.location] = location
        return HTTPResponse(statusCode: .seeOther, headers: headers, body: Data())
    }

    private func asset(_ text: String, type: String) -> HTTPResponse {
        var headers = HTTPHeaders(Self.securityHeaders)
        headers[.contentType] = type
        headers[.cacheControl] = "max-age=300"
        return HTTPResponse(statusCode: .ok, headers: headers, body: Data(text.utf8))
    }

    static func status(_ code: Int) -> HTTPStatusCode {
        switch code {
        case 200: .ok
        case 400: .badRequest
        case 401: .unauthorized
        case 403: .forbidden
        case 404: .notFound
        case 405: .methodNotAllowed
        case 409: .conflict
        case 429: .tooManyRequests
        default: .internalServerError
        }
    }
}

/// The line a page shows after an action (from its redirect's query: an
/// action's name, which must be known, and its target, escaped like all text).
enum Notice {
    static let labels = [
        "retry": "已重试 Retried", "cancel": "已取消 Cancelled", "pause": "已暂停 Paused", "resume": "已恢复 Resumed",
        "resend": "已重新发送 Sent again", "dismiss": "已驳回 Dismissed", "confirm": "已提交欺诈认定 Fraud confirmation submitted",
    ]

    static func text(action: String?, target: String?) -> String? {
        guard let action, let label = labels[action] else { return nil }
        return label + (target.map { ": \($0)" } ?? "")
    }

    /// The database's refusals of the session, the power or the CSRF token
    /// (bank.console_authorize), which are 403s, not the act's own "not done".
    static func isPermissionRefusal(_ message: String) -> Bool {
        message.hasPrefix("no live session") || message.contains("CSRF token") || message.contains("needs the operator power")
    }
}
