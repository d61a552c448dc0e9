import Console
import Foundation
import PostgresClient
import TestSupport
import Testing

/// Issue 17, item 2: the console in a real headless Chromium (Debian's
/// chromium, chromium-driver and python3-selenium; scripts/install-deps),
/// driven by Tests/Browser/console_browser.py against a console served as
/// its own login over a database with known state. With
/// TIMEBANK_CONSOLE_SCREENSHOT set, the overview's screenshot is kept there
/// (the README's docs/console.png).
@Suite struct ConsoleBrowserTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Browser/console_browser.py")

    @Test func viewerAndOperatorUseTheConsoleInChromium() async throws {
        try await ConsoleHarness.with { harness in
            try await harness.addScenery()
            let waiting: Int = try await harness.owner.query(
                "SELECT waiting FROM jobs.queue_depth WHERE queue = $1", [ConsoleHarness.queue])[0].decode("waiting")
            let totalWaiting: Int = try await harness.owner.query("SELECT sum(waiting)::integer AS n FROM jobs.queue_depth")[0].decode("n")
            let screenshot = ProcessInfo.processInfo.environment["TIMEBANK_CONSOLE_SCREENSHOT"]
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString).png").path
            let report = try await harness.serving { url in
                try await Self.runBrowser([
                    "CONSOLE_URL": url.absoluteString, "CONSOLE_PASSWORD": ConsoleHarness.password,
                    "VIEWER_LOGIN": "viewer1", "OPERATOR_LOGIN": "operator1", "FAILED_JOB": String(harness.failedJob),
                    "QUEUE": ConsoleHarness.queue, "SCREENSHOT": screenshot,
                ])
            }
            let seen = try #require(try JSONSerialization.jsonObject(with: report) as? [String: Any],
                                    "not JSON: \(String(decoding: report, as: UTF8.self))")
            // The viewer: the overview's figures are the database's; no action forms; an action refused (403).
            #expect(seen["viewer_waiting"] as? String == String(waiting))
            #expect(seen["viewer_total_waiting"] as? String == String(totalWaiting))
            #expect(seen["cookie_http_only"] as? Bool == true)
            #expect(seen["cookie_same_site"] as? String == "Strict")
            #expect(seen["cookie_visible_to_script"] as? Bool == false)
            #expect(seen["viewer_job_listed"] as? Int == 1)
            #expect(seen["viewer_retry_buttons"] as? Int == 0)
            #expect(seen["viewer_post_status"] as? Int == 403)
            #expect((seen["after_logout_overview_url"] as? String)?.hasSuffix("/login") == true, "logged out")
            #expect((seen["wrong_password_message"] as? String)?.contains("Wrong login or password") == true)
            // The operator: the job's errors (escaped, shown as text), retry and pause through the forms.
            #expect((seen["job_errors"] as? String)?.contains("the insurer answered <b>503</b> & gave up") == true)
            #expect((seen["retry_notice"] as? String)?.contains("Retried") == true)
            #expect((seen["pause_notice"] as? String)?.contains("Paused") == true)
            #expect(seen["queue_shown_paused"] as? Int == 1)
            #expect(try await harness.jobState(harness.failedJob) == "available")
            #expect(try await harness.queuePaused())
            // Posts without the CSRF token, or with another one, are refused and change nothing.
            #expect(seen["no_csrf_post_status"] as? Int == 403)
            #expect(seen["wrong_csrf_post_status"] as? Int == 403)
            #expect(try await harness.queuePaused(), "still paused")
            // 1280 px wide; a phone's width does not scroll sideways.
            #expect(seen["screenshot_width"] as? Int == 1280)
            #expect((seen["phone_scroll_width"] as? Int).map { $0 <= 390 } == true, "\(seen["phone_scroll_width"] ?? "?")")
            let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            // Every act recorded, by whom.
            let acts: [String] = try await harness.owner.query("""
                SELECT coalesce(a.login, '-') || ' ' || c.action || ' ' || c.outcome AS act
                  FROM bank.console_action c LEFT JOIN bank.console_account a ON a.id = c.account_id ORDER BY c.id
                """).map { try $0.decode("act") }
            #expect(acts == ["viewer1 log_in done", "viewer1 retry_job refused", "viewer1 log_out done", "operator1 log_in refused",
                             "operator1 log_in done", "operator1 retry_job done", "operator1 pause_queue done",
                             "operator1 resume_queue refused", "operator1 resume_queue refused"])
        }
    }

    /// The script's JSON, after it exits 0 (within 2 minutes).
    static func runBrowser(_ environment: [String: String]) async throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script.path]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
        if process.isRunning { process.terminate() }
        let report = output.fileHandleForReading.readDataToEndOfFile()
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "console_browser.py failed: \(problems)")
        return report
    }
}
