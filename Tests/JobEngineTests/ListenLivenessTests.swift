@testable import JobEngine
import Testing

/// Issue 16: a listening connection that delivers nothing is replaced.
@Suite struct ListenLivenessTests {
    let start = ContinuousClock.now

    @Test func aProbeGoesOutAtOnceThenEveryIntervalWhileAnswered() {
        var liveness = ListenLiveness(interval: .seconds(10), patience: .seconds(5))
        #expect(liveness.due(at: start) == .probe)
        liveness.sent(at: start)
        #expect(liveness.due(at: start + .seconds(1)) == .none)
        liveness.answered(at: start + .milliseconds(3))
        #expect(liveness.due(at: start + .seconds(9)) == .none)
        #expect(liveness.due(at: start + .seconds(10)) == .probe)
    }

    @Test func aProbeNotAnsweredWithinPatienceMeansReconnect() {
        var liveness = ListenLiveness(interval: .seconds(10), patience: .seconds(5))
        liveness.sent(at: start)
        liveness.answered(at: start + .milliseconds(2))
        liveness.sent(at: start + .seconds(10))
        // The earlier answer does not count for the new probe.
        #expect(liveness.due(at: start + .seconds(14)) == .none)
        #expect(liveness.due(at: start + .seconds(15)) == .reconnect)
        liveness.reset()
        #expect(liveness.due(at: start + .seconds(15)) == .probe)
    }
}
