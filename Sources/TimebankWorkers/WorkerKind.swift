import JobEngine

/// The workers (DESIGN.md "Processes"): each its own queue, its own
/// database role, and the job kinds it runs.
public enum WorkerKind: String, CaseIterable, Sendable {
    case enrollment, order, settlement, notification
    case insuranceClaim = "insurance_claim"

    /// The version the workers report in the registry (`timebank workers`).
    public static let version = "0.9.0"

    /// The executable's name, e.g. `settlement-worker`, `insurance-claim-worker`.
    public var executable: String { rawValue.replacingOccurrences(of: "_", with: "-") + "-worker" }

    /// The queue it claims from; its job kinds are prefixed with it.
    public var queue: String {
        switch self {
        case .insuranceClaim: "claims"
        case .notification: "notifications"
        default: rawValue
        }
    }

    /// The database role its sessions act as (sql/migrations/0001): granted only what it owns.
    public var databaseRole: String { "timebank_\(rawValue)" }

    /// The job kinds run by one SQL step each.
    public var steps: [Step] {
        switch self {
        case .enrollment:
            return [
                Step("enrollment.register_person", "enrollment_register_person"),   // R3
                Step("enrollment.apply_volunteer", "enrollment_apply_volunteer"),   // R1
                Step("enrollment.authenticate_elder", "enrollment_authenticate_elder"),  // R4
                Step("enrollment.declare_relative", "enrollment_declare_relative"),      // R8
                Step("enrollment.verify_relative", "enrollment_verify_relative"),        // R8
                Step("enrollment.import_registry", "enrollment_import_registry"),        // R24
                Step("enrollment.confirm_insurance", "enrollment_confirm_insurance"),    // R25
                Step("enrollment.set_status", "enrollment_set_status"),                  // suspension, closure
                Step("enrollment.register_institution", "enrollment_register_institution"),  // R5
                Step("enrollment.link_guardian", "enrollment_link_guardian"),            // R2
                Step("enrollment.verify_guardian", "enrollment_verify_guardian"),        // R2
            ]
        case .order:
            return [
                Step("order.create_service", "order_create_service"),  // R16
                Step("order.review", "order_review"),                  // R16
                Step("order.book", "order_book"),                      // R17, R20
                Step("order.check_in", "order_check_in"),              // R18
                Step("order.check_out", "order_check_out"),            // R18, R6
                Step("order.cancel", "order_cancel"),
                Step("order.define_item", "order_define_item"),        // R15
                Step("order.join_as_minor", "order_join_as_minor"),    // R2
                Step("order.rate", "order_rate"),                      // R19
                Step("order.report_not_given", "order_report_not_given"),  // R19
                Step("order.expire", "order_expire", servesRequest: false),
                Step("order.no_show", "order_no_show", servesRequest: false),
            ]
        case .settlement:
            return [
                Step("settlement.open_account", "settlement_open_account", servesRequest: false),  // R3
                Step("settlement.grant", "settlement_grant"),                // R9
                Step("settlement.hold", "settlement_hold"),                  // R16
                Step("settlement.release", "settlement_release", servesRequest: false),
                Step("settlement.set_budget", "settlement_set_budget"),      // R9
                Step("settlement.move", "settlement_move"),                  // R8 gifts, R10 donations and welfare grants
                Step("settlement.decide_dispute", "settlement_decide_dispute"),  // R19 reversals
                Step("settlement.confirm_fraud", "settlement_confirm_fraud"),    // R22 the dishonest list, reversals
            ]
        case .insuranceClaim:
            return [
                Step("claims.validate", "claims_validate"),  // R26, R24, R25
            ]
        case .notification:
            return []
        }
    }

    /// The job kinds its registry runs (for `--help`).
    public var jobKinds: [String] {
        let handled: [String] = switch self {
        case .settlement: [SettleHandler.kind, LedgerSnapshotHandler.kind, PartitionMaintenanceHandler.kind]
        case .notification: ["notify.dispatch", DeliverHandler.kind, SupervisionScan.kind]
        case .insuranceClaim: [ClaimSendHandler.kind, RegistryExportHandler.kind, ClaimStateSampler.kind]
        default: []
        }
        return (steps.map(\.kind) + handled).sorted()
    }

    /// The jobs it enqueues once per period (R21's supervision scan; the
    /// claims gauge; R24's daily export to Volunteer Beijing; the daily
    /// balance snapshots and the monthly partitions), run by its executables; the tests' in-process
    /// workers and the demo leave them out.
    public var periodicJobs: [PeriodicJob] {
        switch self {
        case .settlement: [LedgerSnapshotHandler.periodic, PartitionMaintenanceHandler.periodic]
        case .notification: [SupervisionScan.periodic]
        case .insuranceClaim: [RegistryExportHandler.periodic, ClaimStateSampler.periodic]
        default: []
        }
    }

    /// Every handler of this worker; `runtime` serves the notification and
    /// insurance-claim workers, which talk to the world outside.
    public func registry(_ runtime: WorkerRuntime? = nil) throws -> HandlerRegistry {
        var registry = HandlerRegistry()
        registry.register(steps: steps)
        switch self {
        case .settlement:
            registry.register(SettleHandler())
            registry.register(LedgerSnapshotHandler())
            registry.register(PartitionMaintenanceHandler())
        case .notification:
            let runtime = try runtime ?? WorkerRuntime()
            registry.register(kind: "notify.dispatch") { (batch: MessageBatch, context) in
                _ = try await context.database.withConnection { connection in
                    try await connection.query("SELECT bank.notify_dispatch($1)", [batch.ids])
                }
                return .completed
            }
            registry.register(DeliverHandler(channels: runtime.channels, templates: runtime.templates,
                                             quietHours: runtime.quietHours, now: runtime.now))
            registry.register(SupervisionScan())
        case .insuranceClaim:
            let runtime = try runtime ?? WorkerRuntime()
            registry.register(ClaimSendHandler(transport: runtime.transport, retry: runtime.claimRetry))
            registry.register(RegistryExportHandler(transport: runtime.transport, retryAfter: runtime.exportRetryAfter))
            registry.register(ClaimStateSampler())
        default:
            break
        }
        return registry
    }

    /// Defaults that suit its jobs: settlement claims big batches, since a
    /// batch of settlements costs one commit (settle-bench: batches of 100
    /// ran ~1.3x faster than batches of 32), two batches in flight.
    public func configuration() -> WorkerConfiguration {
        var configuration = WorkerConfiguration(name: executable, queues: [queue])
        configuration.databaseRole = databaseRole
        if self == .settlement {
            configuration.concurrency = 200
            configuration.claimBatch = 100
        }
        return configuration
    }
}

/// `notify.dispatch`'s arguments: the messages one statement wrote (sql/functions/notification/outbox.sql).
struct MessageBatch: Codable, Sendable {
    var ids: [Int64]
}
