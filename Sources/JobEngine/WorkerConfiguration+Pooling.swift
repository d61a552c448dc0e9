import PostgresClient

/// Issue 16, item 5: what sits between a worker and PostgreSQL.
public enum Pooler: String, Sendable, CaseIterable {
    /// Direct sessions (or a session pooler): named statements, session settings at connect.
    case none
    /// A transaction pooler (PgBouncer's `pool_mode = transaction`): each
    /// transaction may run on another server session, so nothing may live
    /// in a session. Statements go unnamed (PgBouncer 1.18 has no
    /// protocol-level prepared statements; 1.21+ could track them with
    /// `max_prepared_statements`); no `options` at connect (1.18 refuses
    /// the startup parameter, and with `ignore_startup_parameters = options`
    /// would drop it silently); no LISTEN (a notification would go to
    /// whichever client holds the server session, or to none).
    case transaction
}

extension WorkerConfiguration {
    /// What a session is for: which settings it gets.
    enum SessionUse { case runtime, handler, producer }

    /// Producers LISTEN unless polling only.
    var listens: Bool { !pollOnly }

    /// Refuses the combinations that cannot work, naming the way out.
    func validatePooling() throws {
        if pollOnly && listenConninfo != nil {
            throw ConfigurationError(message: "poll only and a listen URL exclude each other: a poll-only worker does not LISTEN")
        }
        guard pooler == .transaction else { return }
        if !pollOnly && listenConninfo == nil {
            throw ConfigurationError(message:
                "behind a transaction pooler LISTEN has no session to live in: give a listen URL (direct to PostgreSQL) or poll only")
        }
        if asynchronousCommit {
            throw ConfigurationError(message:
                "asynchronous commit is a session setting, lost behind a transaction pooler: set synchronous_commit = off for the login (ALTER ROLE) instead")
        }
    }

    /// `settings` as every pooled session of the worker connects:
    /// unnamed statements and no session settings at connect (they are the
    /// login's own, see ``PoolerCheck``). Unchanged without a pooler.
    public func pooled(_ settings: ConnectionSettings) -> ConnectionSettings {
        guard pooler == .transaction else { return settings }
        var pooled = settings
        pooled.preparedStatements = .unnamed
        pooled.runtimeParameters = [:]
        return pooled
    }

    /// The settings of a session that does a handler's kind of work outside
    /// the runtime (the insurer endpoint's): the handlers' role, timeouts and pooling.
    public func handlerSessionSettings(_ base: ConnectionSettings, applicationName: String) -> ConnectionSettings {
        sessionSettings(base, for: .handler, applicationName: applicationName)
    }

    /// The settings of one of the worker's sessions. A producer with a
    /// listen URL connects there, direct, as without a pooler (its LISTEN
    /// and claims need a session of their own); the other sessions go
    /// through the pooler when there is one.
    func sessionSettings(_ base: ConnectionSettings, for use: SessionUse, applicationName: String) -> ConnectionSettings {
        var settings = base
        settings.applicationName = applicationName
        if use == .producer, let listenConninfo {
            settings.conninfo = listenConninfo
            settings.database = nil
            settings.preparedStatements = .named
        } else if pooler == .transaction {
            return pooled(settings)
        }
        if let databaseRole { settings = settings.with(parameter: "role", databaseRole) }
        // The runtime's own commits only: the handlers' transactions stay as durable as the server makes them.
        if asynchronousCommit && use != .handler { settings = settings.with(parameter: "synchronous_commit", "off") }
        return Worker.bounded(settings, self)
    }
}
