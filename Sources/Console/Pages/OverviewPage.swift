import Foundation
import TimebankOperations

/// 概览 Overview: what `timebank top` shows (per queue: waiting, running,
/// done/s, failed/s, oldest wait; the workers and their heartbeats), the
/// settlement latency and the last ledger verify. Refreshes every 5 s.
enum OverviewPage {
    static func render(_ top: TopSnapshot, latency: ConsoleReads.SettlementLatency, ledger: ConsoleReads.LedgerRun?,
                       viewer: Viewer, notice: String?) -> HTML {
        let waiting = top.queues.reduce(0) { $0 + $1.waiting }, running = top.queues.reduce(0) { $0 + $1.running }
        let failed = top.queues.reduce(0.0) { $0 + $1.failedPerSecond }
        let live = top.workers.filter { $0.state == "live" }.count
        let ledgerCard: HTML = ledger.map { run in
            card("账本核对 Ledger verify", run.verified ? "通过 OK" : "异常 BROKEN", tone: run.verified ? "good" : "bad", id: "ledger-verified")
        } ?? card("账本核对 Ledger verify", "–", id: "ledger-verified")
        let cards: HTML = """
            <div class="cards">
            \(card("等待 Waiting", "\(waiting)", id: "total-waiting"))
            \(card("运行 Running", "\(running)", id: "total-running"))
            \(card("失败/秒 Failed/s", Format.rate(failed), tone: failed > 0 ? "bad" : "", id: "total-failed-rate"))
            \(card("在线进程 Live workers", "\(live)", id: "live-workers"))
            \(card("结算中位 Settlement p50", Format.age(latency.medianSeconds), id: "settlement-median"))
            \(ledgerCard)
            </div>
            """
        let queues = Layout.table(
            ["队列 Queue", "状态 State", "等待 Waiting", "运行 Running", "完成/秒 Done/s", "失败/秒 Failed/s", "最久等待 Oldest wait"],
            top.queues.map { queue in
                ["<a href=\"/jobs?queue=\(queue.name)\" data-queue=\"\(queue.name)\">\(queue.name)</a>",
                 queue.paused ? "<span class=\"state paused\">暂停 paused</span>" : "<span class=\"state live\">运行 running</span>",
                 "<span data-waiting=\"\(queue.name)\">\(queue.waiting)</span>", "\(queue.running)",
                 "\(Format.rate(queue.completedPerSecond))", "\(Format.rate(queue.failedPerSecond))",
                 "\(Format.age(queue.oldestWaitingSeconds))"]
            }, empty: "还没有队列 No queues yet")
        let workers = Layout.table(
            ["进程 Worker", "状态 State", "完成 Jobs done", "失败 Failed", "心跳 Heartbeat"],
            top.workers.map { worker in
                ["<code>\(worker.id)</code>", "<span class=\"state \(worker.state)\">\(worker.state)</span>", "\(worker.jobsDone)",
                 "\(worker.jobsFailed)", "\(Format.age(worker.heartbeatAgeSeconds)) 前 ago"]
            }, empty: "没有登记的进程 No workers registered")
        let settlement = Layout.table(
            ["近一小时结算 Settled (1 h)", "中位 Median", "95%", "最长 Longest", "待结算 Waiting"],
            [["\(latency.settledLastHour)", "\(Format.age(latency.medianSeconds))", "\(Format.age(latency.p95Seconds))",
              "\(Format.age(latency.maxSeconds))", "\(latency.waiting)"]])
        let body: HTML = """
            <label class="refresh"><input type="checkbox" id="auto-refresh" checked> 每 5 秒刷新 Refresh every 5 s</label>
            <p class="muted">\(Format.time(top.takenAt)) · 速率为近 5 秒 rates over the last 5 s</p>
            \(cards)
            <h2>队列 Queues</h2>
            \(queues)
            <h2>工作进程 Workers</h2>
            \(workers)
            <h2>结算延迟 Settlement latency <span class="muted">（签退到入账 check-out to credit）</span></h2>
            \(settlement)
            """
        return Layout.page(title: "概览 Overview", section: "/", viewer: viewer, notice: notice, refresh: true, body)
    }

    static func card(_ label: String, _ value: String, tone: String = "", id: String) -> HTML {
        "<div class=\"card \(tone)\"><div class=\"label\">\(label)</div><div class=\"value\" id=\"\(id)\">\(value)</div></div>"
    }
}
