-- 0020: settlement reports how long each credit took from check-out
-- (issue 9's check-out-to-credited latency, a histogram on /metrics):
-- bank.settlement_settle returns one more column. CREATE OR REPLACE cannot
-- change a function's result, so the old one is dropped here (no CASCADE:
-- nothing depends on it) and sql/functions/settlement/settle.sql creates
-- the new one right after the migrations. On a fresh database it does not
-- exist yet: IF EXISTS.

DROP FUNCTION IF EXISTS bank.settlement_settle(bigint[]);
