/// Who is looking at a page: what the layout shows of the session, and
/// whether it offers actions (an operator's) or only reads (a viewer's).
public struct Viewer: Sendable {
    public var login: String
    public var power: String
    public var csrfToken: String
    public var mayDecideAlerts: Bool

    public var isOperator: Bool { power == "operator" }
}

/// The frame of every page: navigation, the session, a notice, the body.
/// Labels are Chinese then English; the one stylesheet and script are
/// served by the console itself (Content-Security-Policy: 'self' only).
enum Layout {
    static let sections: [(path: String, label: String)] = [
        ("/", "概览 Overview"), ("/jobs", "任务 Jobs"), ("/queues", "队列 Queues"), ("/deliveries", "投递 Deliveries"),
        ("/claims", "理赔 Claims"), ("/alerts", "预警 Alerts"), ("/ledger", "账本 Ledger"), ("/activity", "操作记录 Activity"),
    ]

    static func page(title: String, section: String, viewer: Viewer?, notice: String? = nil, refresh: Bool = false,
                     _ body: HTML) -> HTML {
        let navigation = sections.map { item -> HTML in
            "<a href=\"\(item.path)\"\(item.path == section ? " aria-current=\"page\"" as HTML : "")>\(item.label)</a>"
        }
        let session: HTML = viewer.map { viewer in
            """
            <form method="post" action="/logout" class="session">
              <span>\(viewer.login) · \(viewer.isOperator ? "操作员 operator" : "只读 viewer")</span>
              \(csrfField(viewer))<button type="submit">退出 Log out</button>
            </form>
            """
        } ?? ""
        let banner: HTML = notice.map { "<p class=\"notice\" role=\"status\">\($0)</p>" } ?? ""
        return """
            <!doctype html>
            <html lang="zh-CN">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · 时间银行控制台 Timebank console</title>
            <link rel="stylesheet" href="/console.css">
            <script src="/console.js" defer></script>
            </head>
            <body\(refresh ? " data-refresh=\"5\"" as HTML : "")>
            <header>
              <a class="brand" href="/">时间银行 <span>Timebank console</span></a>
              \(viewer == nil ? "" as HTML : "<nav>\(navigation)</nav>" as HTML)
              \(session)
            </header>
            <main>
            <h1>\(title)</h1>
            \(banner)
            \(body)
            </main>
            </body>
            </html>
            """
    }

    /// The session's CSRF token, which every form posts back.
    static func csrfField(_ viewer: Viewer) -> HTML {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(viewer.csrfToken)\">"
    }

    /// A one-button form for an operator's action; nothing for a viewer.
    static func action(_ viewer: Viewer, path: String, label: String, back: String, danger: Bool = false,
                       fields: HTML = "") -> HTML {
        guard viewer.isOperator else { return "" }
        return """
            <form method="post" action="\(path)" class="inline">\(csrfField(viewer))<input type="hidden" name="back" value="\(back)">\(fields)<button type="submit"\(danger ? " class=\"danger\"" as HTML : "")>\(label)</button></form>
            """
    }

    /// A table: headers, then rows of cells (already HTML); `empty` when there are none.
    static func table(_ headers: [String], _ rows: [[HTML]], empty: String = "无 None") -> HTML {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(empty)</p>" }
        let head = headers.map { header -> HTML in "<th scope=\"col\">\(header)</th>" }
        let body = rows.map { cells -> HTML in
            let tds = zip(headers, cells).map { header, cell -> HTML in "<td data-label=\"\(header)\">\(cell)</td>" }
            return "<tr>\(tds)</tr>"
        }
        return "<div class=\"table\"><table><thead><tr>\(head)</tr></thead><tbody>\(body)</tbody></table></div>"
    }
}
