/// Issue 16: a listening connection can stay open while delivering nothing
/// (a failover behind a proxy, a half-dead socket the kernel has not given
/// up on): peers' trackers report jobs stuck for minutes. So a listening
/// producer sends a NOTIFY to a channel of its own every `interval` and
/// expects it back within `patience`; when one does not come back, the
/// session is replaced (and LISTENs again). A pure value: the producer
/// feeds it the clock and what arrived, and does what it says.
struct ListenLiveness: Sendable {
    enum Action: Equatable, Sendable {
        /// Nothing to do now.
        case none
        /// Send a probe (NOTIFY the private channel) now.
        case probe
        /// The last probe did not come back in time: replace the session.
        case reconnect
    }

    let interval: Duration
    let patience: Duration
    private(set) var sentAt: ContinuousClock.Instant?
    private(set) var answeredAt: ContinuousClock.Instant?

    init(interval: Duration = .seconds(10), patience: Duration = .seconds(5)) {
        self.interval = interval
        self.patience = patience
    }

    /// What to do at `now`, about to wait; `idle`: for work (the queue
    /// looked empty), rather than for slots to free. Only a producer that
    /// waits for work waits for a notification; one that waits for slots is
    /// woken by its own jobs ending (issue 18, item 2: probing there sent a
    /// NOTIFY, whose commit serialises with every other notifying commit,
    /// on nearly every claim of a busy drain).
    func due(at now: ContinuousClock.Instant, idle: Bool) -> Action {
        guard idle else { return .none }
        guard let sentAt else { return .probe }
        let answered = answeredAt.map { $0 >= sentAt } ?? false
        if !answered { return sentAt.duration(to: now) >= patience ? .reconnect : .none }
        return sentAt.duration(to: now) >= interval ? .probe : .none
    }

    mutating func sent(at now: ContinuousClock.Instant) { sentAt = now }

    mutating func answered(at now: ContinuousClock.Instant) { answeredAt = now }

    /// After a new session: start over (the next probe goes out at once).
    mutating func reset() { sentAt = nil; answeredAt = nil }
}
