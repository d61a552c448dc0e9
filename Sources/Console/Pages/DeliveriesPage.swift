import TimebankOperations

/// 投递 Deliveries: messages a channel refused (4xx) or gave up on
/// (`timebank deliveries failed`), one message's attempts, and sending it
/// again. Templates and recipient kinds only: no recipient, no phone.
enum DeliveriesPage {
    static func list(_ failed: [DeliveryAdmin.FailedDelivery], viewer: Viewer, notice: String?) -> HTML {
        let rows = failed.map { delivery -> [HTML] in
            ["<a href=\"/deliveries/\(delivery.messageID)\">\(delivery.messageID)</a>", "\(delivery.template)", "\(delivery.recipientKind)",
             "\(delivery.channel)", JobsPage.state(delivery.lastOutcome), "\(delivery.httpStatus.map(String.init))",
             "\(delivery.answer.map { String($0.prefix(120)) })", "\(delivery.attempts)", "\(Format.time(delivery.lastAttemptAt))",
             Layout.action(viewer, path: "/deliveries/\(delivery.messageID)/retry", label: "重发 Retry", back: "/deliveries")]
        }
        let table = Layout.table(["消息 Message", "模板 Template", "收件方 Recipient", "渠道 Channel", "结果 Outcome", "HTTP",
                                  "回复 Answer", "尝试 Attempts", "最后尝试 Last attempt", "操作 Actions"], rows,
                                 empty: "没有失败的投递 No refused or abandoned deliveries")
        return Layout.page(title: "投递失败 Deliveries refused or given up", section: "/deliveries", viewer: viewer, notice: notice, table)
    }

    static func detail(message: Int64, _ attempts: [DeliveryAdmin.Attempt], viewer: Viewer, notice: String?) -> HTML {
        let rows = attempts.map { attempt -> [HTML] in
            ["\(attempt.channel)", "\(Format.time(attempt.startedAt))", "\(attempt.latencyMilliseconds) ms",
             "\(attempt.httpStatus.map(String.init))", JobsPage.state(attempt.outcome), "\(attempt.answer)", "<code>\(attempt.worker)</code>"]
        }
        let table = Layout.table(["渠道 Channel", "开始 Started", "耗时 Latency", "HTTP", "结果 Outcome", "回复 Answer", "进程 Worker"], rows)
        return Layout.page(title: "消息 Message \(message)", section: "/deliveries", viewer: viewer, notice: notice,
                           table + "<p>\(Layout.action(viewer, path: "/deliveries/\(message)/retry", label: "重发 Retry", back: "/deliveries/\(message)"))</p>")
    }
}
