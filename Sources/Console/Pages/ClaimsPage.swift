import TimebankOperations

/// 理赔 Claims: accident claims' states and delivery (`timebank claims`),
/// one claim's history, and sending one again. No place, no description.
enum ClaimsPage {
    static let states = ["validated", "refused", "sent", "received", "more_documents", "approved", "rejected", "paid"]

    static func list(_ claims: [ClaimAdmin.Claim], state: String?, viewer: Viewer, notice: String?) -> HTML {
        let options = ([""] + states).map { option -> HTML in
            "<option value=\"\(option)\"\(option == (state ?? "") ? " selected" as HTML : "")>\(option.isEmpty ? "全部 any" : option)</option>"
        }
        let form: HTML = """
            <form method="get" action="/claims" class="filters"><label>状态 State <select name="state">\(options)</select></label>
            <button type="submit">筛选 Filter</button></form>
            """
        let rows = claims.map { claim -> [HTML] in
            ["<a href=\"/claims/\(claim.id)\">\(claim.id)</a>", "\(claim.serviceID)", JobsPage.state(claim.state), "\(claim.insurer)",
             "\(Format.time(claim.reportedAt))", "\(claim.attempts)", "\(claim.lastAnswer.map { String($0.prefix(120)) })",
             resend(claim.id, viewer: viewer, back: "/claims")]
        }
        let table = Layout.table(["理赔 Claim", "服务 Service", "状态 State", "保险公司 Insurer", "报案 Reported", "发送次数 Attempts",
                                  "最后回复 Last answer", "操作 Actions"], rows, empty: "没有理赔 No claims")
        return Layout.page(title: "理赔 Claims", section: "/claims", viewer: viewer, notice: notice, form + table)
    }

    static func detail(claim: Int64, _ history: [(state: String, at: Date, by: String, note: String?)], viewer: Viewer, notice: String?) -> HTML {
        let rows = history.map { step -> [HTML] in [JobsPage.state(step.state), "\(Format.time(step.at))", "\(step.by)", "\(step.note)"] }
        let table = Layout.table(["状态 State", "时间 At", "经手 By", "备注 Note"], rows)
        return Layout.page(title: "理赔 Claim \(claim)", section: "/claims", viewer: viewer, notice: notice,
                           "<h2>历史 History</h2>" + table + "<p>\(resend(claim, viewer: viewer, back: "/claims/\(claim)"))</p>")
    }

    static func resend(_ claim: Int64, viewer: Viewer, back: String) -> HTML {
        Layout.action(viewer, path: "/claims/\(claim)/resend", label: "重新发送 Resend", back: back)
    }
}

import Foundation
