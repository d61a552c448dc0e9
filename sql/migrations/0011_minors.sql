-- 0011: R2, minors. A Beijing school student under 18 may serve only with
-- a guardian who is an active volunteer, linked and verified by staff
-- (bank.guardianship, 0003); a minor never books alone, but joins a
-- service the guardian booked, at the same time. The elder's hold pays the
-- guardian's booking; the minor's participation is recorded on the service
-- (companion_id), and R20 holds for the minor too.

ALTER TABLE bank.service ADD COLUMN companion_id bigint REFERENCES bank.volunteer;
COMMENT ON COLUMN bank.service.companion_id IS 'R2: a minor serving with the guardian who booked the service.';
-- R20 for minors: never two services at once.
ALTER TABLE bank.service ADD CONSTRAINT service_no_double_booking_companion EXCLUDE USING gist (
    companion_id WITH =, tstzrange(starts_at, ends_at) WITH &&
) WHERE (status IN ('booked', 'in_progress', 'checked_out'));
GRANT UPDATE (companion_id) ON bank.service TO timebank_order;