-- What application roles may write directly: nothing (issue 15, findings
-- 1 and 2). Every change an application makes goes through a SECURITY
-- DEFINER function of the owner that checks it: the api's functions for
-- clients, each worker's steps (which serve only their own kinds of
-- request and re-derive what they write from the authoritative rows), the
-- job engine's statements (limited to the login's own queues). So the
-- settlement worker's login cannot UPDATE an account or INSERT a
-- transfer, the order worker's cannot edit a grant's request or insert a
-- job, and no login reopens a finished request.
--
-- This file is authoritative like functions.sql: a write privilege that a
-- migration grants to one of these roles is taken back the next time the
-- definitions are applied. Reading stays as the migrations grant it (the
-- columns each role needs; never the ciphertext of R23 but to the steps).
-- The registry feed (timebank_registry) keeps its INSERT on
-- bank.volunteer_beijing_feed: writing that table is its whole job.

REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA jobs, bank, api, reporting
    FROM PUBLIC, timebank_enrollment, timebank_order, timebank_settlement, timebank_notification,
         timebank_insurance_claim, timebank_api, timebank_staff, timebank_analyst, timebank_analyst_detail, timebank_personal_data_reader,
         timebank_console;
