-- settlement-worker (timebank_settlement): R6, the settlement of
-- checked-out services, a batch per transaction, exactly once.

-- The minutes a service earns (R6, R18): from the later of check-in and
-- the booked start to check-out, in whole minutes rounded down, and never
-- more than booked. Checking in early earns nothing extra (the elder
-- agreed to a time); time beyond the booking is not charged to an elder
-- who held coins for the booked length only; a started minute is not a
-- served one.
CREATE OR REPLACE FUNCTION bank.served_minutes(starts_at timestamptz, booked_minutes integer, checked_in_at timestamptz, checked_out_at timestamptz)
RETURNS integer
LANGUAGE sql IMMUTABLE
RETURN least(booked_minutes,
             greatest(0, floor(extract(epoch FROM checked_out_at - greatest(checked_in_at, starts_at)) / 60)))::integer;

-- R6: settles checked-out services, a batch in one statement's worth of
-- transfers: for each, the served minutes of the elder's hold are posted
-- to the clearing account (the rest released) and paid on to the
-- volunteer; a service that earned nothing has its hold released. Exactly
-- once: each service is locked and settled only while settled_at is NULL
-- (a duplicate waits for the first and then finds it settled), and the
-- transfers' idempotency keys would refuse a second payment anyway.
-- Returns the services it settled now (with the seconds from check-out to
-- credit, for the timebank_checkout_to_credit_seconds histogram), and the
-- services deferred because their volunteer is not active.
CREATE OR REPLACE FUNCTION bank.settlement_settle(services bigint[])
RETURNS TABLE (service_id bigint, minutes integer, deferred boolean, credited_after_seconds double precision)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    clock_ahead interval := bank.clock_offset();  -- the development clock's offset, read once per batch
BEGIN
    INSERT INTO bank.account (kind, person_id)
    SELECT DISTINCT 'personal'::bank.account_kind, s.volunteer_id FROM bank.service s
     WHERE s.id = ANY(services) AND s.status = 'checked_out' AND s.settled_at IS NULL
    ON CONFLICT (person_id) DO NOTHING;

    RETURN QUERY
    WITH due AS MATERIALIZED (
        SELECT s.id, s.hold_transfer_id, s.volunteer_id, p.status = 'active' AS payable, s.checked_out_at,
               bank.served_minutes(s.starts_at, s.booked_minutes, s.checked_in_at, s.checked_out_at) AS minutes
          FROM bank.service s JOIN bank.person p ON p.id = s.volunteer_id
         WHERE s.id = ANY(services) AND s.status = 'checked_out' AND s.settled_at IS NULL
         ORDER BY s.id FOR NO KEY UPDATE OF s
    ), settling AS MATERIALIZED (
        SELECT d.id AS service_id, d.minutes, d.checked_out_at, h.id AS hold_id, h.debit_account_id AS elder_account,
               h.amount AS hold_amount, v.id AS volunteer_account
          FROM due d
          JOIN bank.transfer h ON h.id = d.hold_transfer_id
          JOIN bank.account v ON v.person_id = d.volunteer_id
         WHERE d.payable
    ), paid AS (
        INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, pending_id, service_id)
        SELECT 'settle:' || st.service_id || ':payment', 'post_pending'::bank.transfer_phase, 'service_payment',
               st.elder_account, bank.clearing_account(), st.minutes, st.hold_id, st.service_id
          FROM settling st WHERE st.minutes > 0
        UNION ALL
        SELECT 'settle:' || st.service_id || ':credit', 'posted', 'service_credit',
               bank.clearing_account(), st.volunteer_account, st.minutes, NULL, st.service_id
          FROM settling st WHERE st.minutes > 0
        UNION ALL
        SELECT 'settle:' || st.service_id || ':release', 'void_pending', 'service_release',
               st.elder_account, bank.clearing_account(), st.hold_amount, st.hold_id, st.service_id
          FROM settling st WHERE st.minutes = 0
    ), marked AS (
        -- settled_at is the ledger's time (real: sql/functions/bank/clock.sql); the delay
        -- since the check-out is measured on the bank's clock, which stamped the check-out.
        UPDATE bank.service s SET settled_at = clock_timestamp(), settled_minutes = st.minutes
          FROM settling st WHERE s.id = st.service_id
        RETURNING s.id, st.minutes, extract(epoch FROM s.settled_at + clock_ahead - st.checked_out_at)::float8 AS after
    )
    SELECT m.id, m.minutes, false, m.after FROM marked m
    UNION ALL
    SELECT d.id, NULL::integer, true, NULL::float8 FROM due d WHERE NOT d.payable
    ORDER BY 1;
END
$$;
