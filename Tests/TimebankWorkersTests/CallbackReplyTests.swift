import Foundation
import PostgresClient
import Testing
import TimebankWorkers

/// Issue 17: what the insurers' endpoint answers, and its rate limit, as
/// values (no server, no clock).
@Suite struct CallbackReplyTests {
    @Test func r26TheDatabasesRefusalsBecomeTheDocumentedStatusesNamingTheField() {
        let refused = CallbackReply.failed(PostgresError(.server, code: .init("22023"), message: "R26: a claim that is sent cannot become paid",
                                                         detail: "field: status"))
        #expect(refused == .refused(field: "status", rule: "R26", message: "a claim that is sent cannot become paid"))
        #expect(refused.status == 422)
        #expect(CallbackReply.failed(PostgresError(.server, code: .init("28000"), message: "R26: the callback's signature is not ...")) == .unauthenticated)
        // A data exception the function did not name is still the body's fault, and says nothing of the server.
        let cast = CallbackReply.failed(PostgresError(.server, code: .init("22003"), message: "value \"1e30\" is out of range for type bigint"))
        #expect(cast.status == 422 && cast.body.field == "body" && cast.body.message?.contains("bigint") == false)
    }

    @Test func theDatabaseAwayOrBusyIs503WithRetryAfterAndAnythingElse500() {
        for error in [PostgresError(.connect(.hostUnreachable), message: "refused"), PostgresError(.connectionLost, message: "eof"),
                      PostgresError(.server, code: .queryCanceled, message: "statement timeout"),
                      PostgresError(.server, code: .lockNotAvailable, message: "lock timeout")] {
            #expect(CallbackReply.failed(error) == .unavailable, "\(error)")
        }
        #expect(CallbackReply.unavailable.headers["Retry-After"] == "5")
        #expect(CallbackReply.failed(PostgresError(.server, code: .init("42883"), message: "function does not exist")).status == 500)
        #expect(CallbackReply.failed(CocoaError(.fileNoSuchFile)).status == 500)
    }

    @Test func everyUnauthenticatedAnswerIsTheSameBytes() throws {
        let body = CallbackReply.unauthenticated.json
        let decoded = try JSONDecoder().decode(CallbackReply.Answer.self, from: body)
        #expect(decoded.field == "X-Timebank-Signature" && decoded.state == nil)
        #expect(CallbackReply.failed(PostgresError(.server, code: .init("28000"), message: "another message")).json == body)
    }

    @Test func anInsurerGetsItsBurstThenItsRateAndOthersTheirOwn() {
        var limiter = RateLimiter(rate: 2, burst: 3)
        for _ in 0..<3 { #expect(limiter.admit("picc", now: 0) == .admitted) }
        #expect(limiter.admit("picc", now: 0) == .limited(retryAfter: 1))
        #expect(limiter.admit("cpic", now: 0) == .admitted, "its own bucket")
        #expect(limiter.admit("picc", now: 0.5) == .admitted, "one token a half second")
        #expect(limiter.admit("picc", now: 0.5) == .limited(retryAfter: 1))
        #expect(limiter.admit("picc", now: 100) == .admitted)
        var slow = RateLimiter(rate: 0.1, burst: 1)
        #expect(slow.admit("picc", now: 0) == .admitted)
        #expect(slow.admit("picc", now: 0) == .limited(retryAfter: 10))
    }

    @Test func inventedCodesCannotGrowTheLimiterBeyondItsBoundNorTakeARealInsurersAllowance() {
        var limiter = RateLimiter(rate: 1, burst: 2, maximumKeys: 3)
        #expect(limiter.admit("picc", now: 0) == .admitted)
        for index in 0..<1000 { _ = limiter.admit("invented\(index)", now: 0) }
        #expect(limiter.keys == 3)
        #expect(limiter.admit("picc", now: 0) == .admitted, "picc kept its bucket")
        // Once the invented ones have refilled, their buckets go and newcomers get their own again.
        #expect(limiter.admit("cpic", now: 10) == .admitted)
        #expect(limiter.keys <= 3)
    }
}
