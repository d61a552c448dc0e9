import JobEngine
import Testing

@Suite struct BackoffTests {
    @Test func growsExponentiallyUpToTheCap() {
        let backoff = Backoff(base: .seconds(1), maximum: .seconds(60), jitter: 0.2)
        #expect(backoff.delay(afterAttempt: 1, random: 0) == .seconds(1))
        #expect(backoff.delay(afterAttempt: 2, random: 0) == .seconds(2))
        #expect(backoff.delay(afterAttempt: 5, random: 0) == .seconds(16))
        #expect(backoff.delay(afterAttempt: 30, random: 0) == .seconds(60))
        // Jitter stays within its fraction either way.
        #expect(backoff.delay(afterAttempt: 3, random: 1) == .milliseconds(4800))
        #expect(backoff.delay(afterAttempt: 3, random: -1) == .milliseconds(3200))
    }
}
