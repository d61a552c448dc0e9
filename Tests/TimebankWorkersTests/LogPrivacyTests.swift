import Foundation
import PostgresClient
import TestSupport
import TimebankOperations
import Testing
import TimebankWorkers

extension BankSuites {
    /// R23: logs and errors never carry personal data. The demo runs through
    /// all five workers as processes, logging at their most verbose, then
    /// every log is searched for the sample people's national IDs, names and
    /// phone numbers.
    @Suite struct LogPrivacyTests {
        @Test func r23TheDemoThroughEveryWorkerLeavesNoPersonalDataInAnyLog() async throws {
            try await Bank.with(workers: false) { bank in
                try await WorkerProcess.killingOnFailure {
                    let workers = try WorkerKind.allCases.map {
                        // No quiet hours: the demo's messages are delivered whatever the time in Beijing.
                        try WorkerProcess.start($0.executable, bank.database.settings, ["--log-level", "trace", "--poll-milliseconds", "100"],
                                                environment: ["TIMEBANK_QUIET_HOURS": "off"])
                    }
                    try await bank.eventually("""
                        (SELECT count(DISTINCT split_part(application_name, ' ', 1)) FROM pg_stat_activity
                          WHERE datname = current_database() AND application_name ~ '-worker ') = 5
                        """)
                    let narrative = try await bank.runDemo()
                    // And a race only the database decides (R3: the same national ID twice), whose error names the ID.
                    let id = NationalID.sample(age: 40, serial: 4242)
                    let (one, two) = try await bank.submitRacing(
                        ("api.register_person($1, 'Zhao Lei', '13700137000', true, '110105')", [id]),
                        ("api.register_person($1, 'Zhao Lei', '13700137000', true, '110105')", [id]))
                    let refusals = [try await bank.outcome(one).refusal, try await bank.outcome(two).refusal].compactMap { $0 }
                    #expect(refusals.count == 1 && refusals[0].hasPrefix("R3:"))
                    try await bank.eventually("NOT EXISTS (SELECT 1 FROM jobs.job WHERE state IN ('available', 'running', 'retryable') AND queue <> 'notifications')")
                    for worker in workers { worker.signal(SIGTERM) }
                    for worker in workers { #expect(await worker.wait() == 0) }

                    let people = try await bank.owner.query("SELECT bank.personal_data_decrypt(national_id_encrypted) AS national_id, name, bank.personal_data_decrypt(phone_encrypted) AS phone FROM bank.person WHERE name NOT LIKE 'Fixture %'")
                    #expect(people.count >= 4)
                    var secrets: [String] = []
                    for person in people {
                        secrets.append(try person.decode("national_id", as: String.self))
                        secrets.append(try person.decode("name", as: String.self))
                        if let phone = try person.decode("phone", as: String?.self) { secrets.append(phone) }
                    }
                    for worker in workers {
                        let log = worker.output
                        #expect(log.contains("[JobEngine] started") && log.contains("[JobEngine] stopped"), "\(worker.log)")
                        for secret in secrets { #expect(!log.contains(secret), "\(worker.log) shows personal data") }
                    }
                    // The demo ran through these processes (their messages were delivered, for one).
                    #expect(try await bank.count("bank.delivery_attempt WHERE outcome = 'delivered'") > 0)
                    // The demo's own narrative names its sample people, but never an ID or a phone number.
                    for person in people {
                        #expect(!narrative.contains(try person.decode("national_id", as: String.self)))
                        if let phone = try person.decode("phone", as: String?.self) { #expect(!narrative.contains(phone)) }
                    }
                    // Nor do the job errors kept in the database.
                    let errors = try await bank.owner.query("SELECT coalesce(string_agg(errors::text, ' '), '') AS e FROM jobs.job")[0].decode("e", as: String.self)
                    for secret in secrets { #expect(!errors.contains(secret), "jobs.job.errors shows personal data") }
                }
            }
        }
    }
}
