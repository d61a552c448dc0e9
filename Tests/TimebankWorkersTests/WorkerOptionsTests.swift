import ArgumentParser
import JobEngine
import Testing
import WorkerHost
import TimebankWorkers

/// Issue 9: every worker's tuning from flags or the environment, the same names everywhere.
@Suite struct WorkerOptionsTests {
    func configured(_ arguments: [String], _ environment: [String: String]) throws -> WorkerConfiguration {
        let options = try WorkerOptions.parse(arguments)
        var configuration = WorkerKind.settlement.configuration()
        try options.apply(to: &configuration, environment: environment)
        return configuration
    }

    @Test func aFlagWinsOverItsVariableWhichWinsOverTheDefault() throws {
        let defaults = try configured([], [:])
        #expect(defaults.concurrency == 200 && defaults.claimBatch == 100 && defaults.databaseRole == "timebank_settlement")
        let fromEnvironment = try configured([], ["TIMEBANK_CONCURRENCY": "50", "TIMEBANK_LEASE_MILLISECONDS": "9000",
                                                  "TIMEBANK_DATABASE_ROLE": "none"])
        #expect(fromEnvironment.concurrency == 50 && fromEnvironment.lease == .milliseconds(9000) && fromEnvironment.databaseRole == nil)
        let fromFlag = try configured(["--concurrency", "7"], ["TIMEBANK_CONCURRENCY": "50"])
        #expect(fromFlag.concurrency == 7)
    }

    @Test func aBadVariableIsNamed() throws {
        let error = try #require(throws: ValidationError.self) { try configured([], ["TIMEBANK_CLAIM_BATCH": "many"]) }
        #expect(error.message.contains("TIMEBANK_CLAIM_BATCH"))
    }

    /// Issue 16, item 5: LISTEN needs a session, which a transaction pooler does not keep.
    @Test func behindATransactionPoolerListeningNeedsADirectURLOrPollingOnly() throws {
        let error = try #require(throws: ConfigurationError.self) { try configured(["--pooler", "transaction"], [:]) }
        #expect(error.message.contains("listen URL") && error.message.contains("poll only"))
        let polling = try configured([], ["TIMEBANK_POOLER": "transaction", "TIMEBANK_POLL_ONLY": "true"])
        #expect(polling.pooler == .transaction && polling.pollOnly && polling.listenConninfo == nil)
        let listening = try configured(["--pooler", "transaction", "--listen-url", "postgresql://w@db:5432/timebank"], [:])
        #expect(listening.listenConninfo == "postgresql://w@db:5432/timebank" && !listening.pollOnly)
        #expect(throws: ConfigurationError.self) { try configured(["--poll-only", "--listen-url", "postgresql://w@db/timebank"], [:]) }
        #expect(throws: ValidationError.self) { try configured(["--pooler", "session"], [:]) }
        #expect(throws: ValidationError.self) { try configured([], ["TIMEBANK_POLL_ONLY": "sometimes"]) }
    }

    @Test func everyTuningFlagHasItsVariable() throws {
        let help = WorkerOptions.helpMessage()
        for (flag, variable) in WorkerOptions.environmentVariables {
            #expect(help.contains(flag), "\(flag)")
            #expect(variable == "TIMEBANK_" + flag.dropFirst(2).uppercased().replacingOccurrences(of: "-", with: "_"))
        }
    }
}
