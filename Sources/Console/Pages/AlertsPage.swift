import TimebankOperations

/// 预警 Alerts (R21): the alerts with their evidence (ids only), dismiss
/// and confirm fraud for an operator whose account names a staff member
/// (the api's functions check that member's power and district).
enum AlertsPage {
    static let statuses = ["open", "dismissed", "confirmed"]

    static func render(_ alerts: [SupervisionAdmin.Alert], status: String?, viewer: Viewer, notice: String?) -> HTML {
        let options = (statuses + [""]).map { option -> HTML in
            "<option value=\"\(option)\"\(option == (status ?? "") ? " selected" as HTML : "")>\(option.isEmpty ? "全部 any" : option)</option>"
        }
        let form: HTML = """
            <form method="get" action="/alerts" class="filters"><label>状态 Status <select name="status">\(options)</select></label>
            <button type="submit">筛选 Filter</button></form>
            """
        let rows = alerts.map { alert -> [HTML] in
            ["\(alert.id)", "\(alert.kind)", JobsPage.state(alert.status), "\(alert.people.map(String.init).joined(separator: ", "))",
             "<pre>\(JobsPage.pretty(alert.evidence))</pre>", "\(Format.time(alert.detectedAt))", decisions(alert, viewer: viewer)]
        }
        let table = Layout.table(["预警 Alert", "类型 Kind", "状态 Status", "人员编号 People (ids)", "证据 Evidence", "发现 Detected",
                                  "处理 Decide"], rows, empty: "没有预警 No alerts")
        let note: HTML = viewer.isOperator && !viewer.mayDecideAlerts
            ? "<p class=\"muted\">此账户未关联工作人员，不能处理预警 This account names no staff member, so it decides no alert (timebank console accounts add --staff-code).</p>"
            : ""
        return Layout.page(title: "监督预警 Supervision alerts", section: "/alerts", viewer: viewer, notice: notice, form + note + table)
    }

    static func decisions(_ alert: SupervisionAdmin.Alert, viewer: Viewer) -> HTML {
        guard alert.status == "open", viewer.mayDecideAlerts else { return "" }
        let reason: HTML = "<input name=\"reason\" required maxlength=\"500\" placeholder=\"理由 reason\">"
        let people = alert.people.map { person -> HTML in "<option value=\"\(person)\">\(person)</option>" }
        return Layout.action(viewer, path: "/alerts/\(alert.id)/dismiss", label: "驳回 Dismiss", back: "/alerts", fields: reason)
            + Layout.action(viewer, path: "/alerts/\(alert.id)/confirm", label: "认定欺诈 Confirm fraud", back: "/alerts", danger: true,
                            fields: "<select name=\"person\">\(people)</select>" + reason
                                + "<input name=\"services\" size=\"10\" inputmode=\"numeric\" placeholder=\"服务编号 service ids\">")
    }
}
