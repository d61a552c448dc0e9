import JobEngine
import WorkerHost

/// How each of the time bank's workers is hosted (WorkerHost runs it).
extension WorkerKind {
    /// This kind as the host runs it; `runtime` serves the notification and
    /// insurance-claim workers, which talk to the world outside.
    /// `endpoint`: the insurance-claim worker's insurer endpoint, if it serves one.
    public func hosted(_ runtime: WorkerRuntime? = nil, endpoint: InsurerEndpointOptions.Endpoint? = nil) -> HostedWorker {
        var configuration = configuration()
        configuration.version = Self.version
        return HostedWorker(name: executable, configuration: configuration, periodicJobs: periodicJobs, companions: { settings, logger in
            guard let endpoint else { return [] }
            return [try endpoint.service(settings: settings, logger: logger)]
        }) { _ in
            try registry(runtime)
        }
    }
}

extension WorkerOptions {
    /// Runs `kind`'s worker until SIGTERM or SIGINT (see ``WorkerOptions/run(_:)-(HostedWorker)``).
    public func run(_ kind: WorkerKind, runtime: WorkerRuntime? = nil, endpoint: InsurerEndpointOptions.Endpoint? = nil) async throws {
        try await run(kind.hosted(runtime, endpoint: endpoint))
    }
}
