-- Issue 18, item 1: the clearing account's totals are no longer kept on
-- its row.
--
-- Every settlement batch moves coins through the one service_clearing
-- account (the elder's hold is paid into it, the volunteer is credited out
-- of it). bank.apply_transfers used to lock and update that row in every
-- statement, so every batch of every settlement process waited its turn on
-- it, through its commit: two processes settled no faster than one (a
-- 2-process drain spent two thirds of its settle statements' time waiting
-- on that lock). Nothing reads the clearing account's totals (balances and
-- the welfare fund read personal and welfare accounts), and its
-- available balance is 0 by construction (paid in and credited out the same
-- minutes in one statement), so its totals are now derived from its
-- transfers only, by `ledger verify` (L4, L6), and the row's columns hold 0.
UPDATE bank.account
   SET debits_pending = 0, debits_posted = 0, credits_pending = 0, credits_posted = 0, earned_minutes = 0
 WHERE kind = 'service_clearing';

COMMENT ON TABLE bank.account IS 'Ledger accounts with their running totals in minutes (1 coin = 60). Available = credits_posted - debits_posted - debits_pending. The service_clearing account keeps no totals (all 0): its are derived from its transfers (ledger verify), so that settlement batches do not queue on its row. 账户';
