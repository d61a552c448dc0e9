import PostgresClient
import TimebankWorkers

/// Many services ready to be checked out, made in bulk, for the
/// settlement fault tests and the settlement benchmark: elders with
/// granted coins, volunteers, and services in progress, each with its
/// hold, exactly as the api path leaves them (every row passes the same
/// constraints and the ledger's triggers), only without a request per step.
/// Needs a session that may write every table (the migration owner).
public enum SettlementFixture {
    /// Creates `services` services in progress, shared among `elders`
    /// elders and `volunteers` volunteers; service `i` was checked in at
    /// its start and will have served 30 + i % 31 minutes of its booked 60
    /// when checked out. Returns the services' ids.
    public static func prepare(
        _ connection: PostgresConnection, services: Int, elders: Int = 500, volunteers: Int = 1000
    ) async throws -> [Int64] {
        try await connection.transaction { connection in
            _ = try connection.query(peopleSQL, [elders, volunteers])
            _ = try connection.query(grantsSQL, [services, elders])
            _ = try connection.query(grantsFinishedSQL)
            _ = try connection.query(budgetSQL)
            return try connection.query(servicesSQL, [services, elders, volunteers]).map { try $0.decode("id", as: Int64.self) }
        }
    }

    /// Checks the services out as `bank.order_check_out` does (status,
    /// check-out time, the settlement job in the same transaction), in one
    /// transaction for all of them.
    public static func checkOut(_ connection: isolated PostgresConnection, _ services: [Int64]) throws {
        try connection.transaction { connection in
            _ = try connection.query(checkOutSQL, [services])
            _ = try connection.query("SELECT jobs.wake('settlement')")
        }
    }

    /// The minutes service number `i` (0-based, in creation order) serves.
    public static func servedMinutes(_ i: Int) -> Int { 30 + i % 31 }

    // Elders are born in 1950 (75 or so), volunteers in 1995; each person
    // gets a valid national ID (R3) from the same check-digit rule as the api.
    static let peopleSQL = """
        WITH numbered AS (
            SELECT n, n <= $1 AS elder,
                   '110105' || to_char(CASE WHEN n <= $1 THEN date '1950-01-01' ELSE date '1995-01-01' END + (n % 3000)::int, 'YYYYMMDD')
                            || lpad(((n / 3000) % 1000)::text, 3, '0') AS id17
              FROM generate_series(1, $1 + $2) AS n
        ), requests AS (
            INSERT INTO bank.request (kind, args, status, result, finished_at)
            SELECT 'register_person', jsonb_build_object('fixture', n.n), 'completed', '{}', now() FROM numbered n
            RETURNING id, (args->>'fixture')::int AS n
        ), people AS (
            -- Fixture people need no personal-data key: their ID's "hash" is an unkeyed
            -- digest and their "ciphertext" a placeholder, never read (R23's columns).
            INSERT INTO bank.person (national_id_hash, national_id_encrypted, name, birth_date, gender, beijing_resident, district_code, request_id)
            SELECT public.digest('fixture:' || x.id17, 'sha256'), '\\x00'::bytea,
                   'Fixture ' || x.n, bank.national_id_birth_date(x.id17 || '0'),
                   CASE WHEN substr(x.id17, 17, 1)::int % 2 = 1 THEN 'male' ELSE 'female' END, true, '110105', r.id
              FROM numbered x JOIN requests r ON r.n = x.n
            RETURNING id, request_id
        ), roles AS (
            INSERT INTO bank.elder (person_id, request_id)
            SELECT p.id, p.request_id FROM people p JOIN requests r ON r.id = p.request_id WHERE r.n <= $1
            RETURNING person_id
        )
        INSERT INTO bank.volunteer (person_id, training_completed_on, request_id)
        SELECT p.id, date '2024-01-01', p.request_id FROM people p JOIN requests r ON r.id = p.request_id WHERE r.n > $1
        """

    // Accounts for everyone; each elder granted enough for an hour per
    // service, each grant with its own grant_coins request (ledger verify
    // matches every grant to its request: issue 15).
    static let grantsSQL = """
        WITH opened AS (
            INSERT INTO bank.account (kind, person_id)
            SELECT 'personal', p.id FROM bank.person p WHERE p.name LIKE 'Fixture %'
            ON CONFLICT (person_id) DO NOTHING
            RETURNING id, person_id
        ), grants AS (
            SELECT a.id AS account_id, a.person_id, 60 * (($1 + $2 - 1) / $2) AS minutes
              FROM opened a JOIN bank.elder e ON e.person_id = a.person_id
        ), requests AS (
            INSERT INTO bank.request (kind, args)
            SELECT 'grant_coins', jsonb_build_object('elder_id', person_id, 'district_code', '110105',
                                                     'category', 'economically_disadvantaged', 'minutes', minutes)
              FROM grants
            RETURNING id, (args->>'elder_id')::bigint AS person_id
        )
        INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, grant_category, request_id)
        SELECT 'grant:' || r.id, 'posted', 'grant', g.id, a.account_id, a.minutes, 'economically_disadvantaged', r.id
          FROM grants a JOIN requests r ON r.person_id = a.person_id
         CROSS JOIN bank.account g WHERE g.district_code = '110105'
        """

    // Each grant's request completed with its transfer, as bank.settlement_grant leaves it.
    static let grantsFinishedSQL = """
        UPDATE bank.request r SET status = 'completed', result = jsonb_build_object('transfer_id', t.id), finished_at = now()
          FROM bank.transfer t
         WHERE t.request_id = r.id AND t.kind = 'grant' AND r.kind = 'grant_coins' AND r.status = 'pending'
        """

    // R9: the district's budget for today covers the fixture's grants.
    static let budgetSQL = """
        WITH r AS (
            INSERT INTO bank.request (kind, args, status, result, finished_at)
            VALUES ('set_district_budget', '{"fixture": true}', 'completed', '{}', now()) RETURNING id
        )
        INSERT INTO bank.district_budget (district_code, period, budget_minutes, granted_minutes, request_id)
        SELECT '110105', daterange(bank.local_today() - 1, bank.local_today() + 1, '[]'), 2 * sum(t.amount), sum(t.amount), r.id
          FROM r, bank.transfer t WHERE t.kind = 'grant' GROUP BY r.id
        """

    // Service i: elder i % elders, volunteer i % volunteers, booked for an
    // hour in its volunteer's own two-hour slot (R20 holds), checked in.
    static let servicesSQL = """
        WITH elders AS (
            SELECT e.person_id, row_number() OVER (ORDER BY e.person_id) - 1 AS k
              FROM bank.elder e JOIN bank.person p ON p.id = e.person_id WHERE p.name LIKE 'Fixture %'
        ), volunteers AS (
            SELECT v.person_id, row_number() OVER (ORDER BY v.person_id) - 1 AS k
              FROM bank.volunteer v JOIN bank.person p ON p.id = v.person_id WHERE p.name LIKE 'Fixture %'
        ), plan AS (
            SELECT i, e.person_id AS elder_id, v.person_id AS volunteer_id,
                   date_trunc('minute', now()) - interval '1 day' - (i / $3) * interval '2 hours' AS starts_at
              FROM generate_series(0, $1 - 1) AS i
              JOIN elders e ON e.k = i % $2
              JOIN volunteers v ON v.k = i % $3
        ), requests AS (
            INSERT INTO bank.request (kind, args, status, result, finished_at)
            SELECT 'publish_demand', jsonb_build_object('fixture', i), 'completed', '{}', now() FROM plan
            RETURNING id, (args->>'fixture')::int AS i
        ), holds AS (
            INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, request_id)
            SELECT 'hold:' || r.id, 'pending', 'service_hold', a.id, bank.clearing_account(), 60, r.id
              FROM requests r JOIN plan p ON p.i = r.i JOIN bank.account a ON a.person_id = p.elder_id
            RETURNING id, request_id
        )
        INSERT INTO bank.service (request_id, elder_id, category_code, district_code, description, starts_at, ends_at,
                                  hold_transfer_id, status, reviewed_by, reviewed_at, volunteer_id, booked_at, checked_in_at)
        SELECT r.id, p.elder_id, 'emotional_comfort', '110105', 'fixture ' || p.i, p.starts_at, p.starts_at + interval '1 hour',
               h.id, 'in_progress', 'fixture', now(), p.volunteer_id, now(), p.starts_at
          FROM plan p JOIN requests r ON r.i = p.i JOIN holds h ON h.request_id = r.id
         ORDER BY p.i
        RETURNING id
        """

    static let checkOutSQL = """
        WITH out AS (
            UPDATE bank.service s
               SET status = 'checked_out',
                   checked_out_at = s.checked_in_at + (30 + (substr(s.description, 9)::int % 31)) * interval '1 minute'
             WHERE s.id = ANY($1) AND s.status = 'in_progress'
            RETURNING s.id
        )
        INSERT INTO jobs.job (kind, queue, args, unique_key)
        SELECT 'settlement.settle', 'settlement', jsonb_build_object('id', out.id), out.id::text FROM out
        """
}
