@testable import JobEngine
import Testing

/// Issue 16: a listening connection that delivers nothing is replaced.
@Suite struct ListenLivenessTests {
    let start = ContinuousClock.now

    @Test func aProbeGoesOutAtOnceThenEveryIntervalWhileAnswered() {
        var liveness = ListenLiveness(interval: .seconds(10), patience: .seconds(5))
        #expect(liveness.due(at: start, idle: true) == .probe)
        liveness.sent(at: start)
        #expect(liveness.due(at: start + .seconds(1), idle: true) == .none)
        liveness.answered(at: start + .milliseconds(3))
        #expect(liveness.due(at: start + .seconds(9), idle: true) == .none)
        #expect(liveness.due(at: start + .seconds(10), idle: true) == .probe)
    }

    @Test func aProbeNotAnsweredWithinPatienceMeansReconnect() {
        var liveness = ListenLiveness(interval: .seconds(10), patience: .seconds(5))
        liveness.sent(at: start)
        liveness.answered(at: start + .milliseconds(2))
        liveness.sent(at: start + .seconds(10))
        // The earlier answer does not count for the new probe.
        #expect(liveness.due(at: start + .seconds(14), idle: true) == .none)
        #expect(liveness.due(at: start + .seconds(15), idle: true) == .reconnect)
        liveness.reset()
        #expect(liveness.due(at: start + .seconds(15), idle: true) == .probe)
    }

    /// Issue 18, item 2: a producer waiting for free slots (its queue not
    /// empty) needs no notification, so it sends no probe: a NOTIFY
    /// serialises its commit with every other notifying commit, and a busy
    /// drain sent one every claim (485 for 5,000 jobs in a job-bench run).
    @Test func aProducerWaitingForFreeSlotsSendsNoProbe() {
        var liveness = ListenLiveness(interval: .seconds(10), patience: .seconds(5))
        #expect(liveness.due(at: start, idle: false) == .none)
        #expect(liveness.due(at: start + .seconds(60), idle: false) == .none)
        // Waiting for work again: the probe goes out at once.
        #expect(liveness.due(at: start + .seconds(60), idle: true) == .probe)
        liveness.sent(at: start + .seconds(60))
        // An unanswered probe is not held against a producer that stopped waiting for work.
        #expect(liveness.due(at: start + .seconds(70), idle: false) == .none)
        #expect(liveness.due(at: start + .seconds(70), idle: true) == .reconnect)
    }
}
