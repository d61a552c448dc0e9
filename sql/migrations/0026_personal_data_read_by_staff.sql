-- 0026: reading an identity (R23) is a staff act like the others (issue
-- 15, finding 9): the reader names a staff member known to the database
-- who holds the new power read_personal_data, for a person of the member's
-- district (or any, city level); the read is recorded with the member's id.

ALTER TABLE bank.staff_member DROP CONSTRAINT staff_member_powers_known;
-- A member holds only powers the api knows (a new one is a new
-- migration), at least one, none NULL (timebank staff add stores each once).
ALTER TABLE bank.staff_member ADD CONSTRAINT staff_member_powers_known CHECK (
    cardinality(powers) >= 1 AND array_position(powers, NULL) IS NULL
    AND powers <@ ARRAY['set_budget', 'grant', 'review', 'verify', 'set_status', 'confirm_insurance', 'register_institution',
                        'define_item', 'import_registry', 'decide_dispute', 'dismiss_alert', 'confirm_fraud', 'read_personal_data']);
COMMENT ON COLUMN bank.staff_member.powers IS 'What the member may do: set_budget, grant, review, verify, set_status, confirm_insurance, register_institution, define_item, import_registry, decide_dispute, dismiss_alert, confirm_fraud, read_personal_data. 权限';

ALTER TABLE bank.personal_data_read
    -- The staff member who read it (NULL: the notification worker's release, or a read before 0026).
    ADD COLUMN staff_member_id bigint REFERENCES bank.staff_member;
COMMENT ON COLUMN bank.personal_data_read.staff_member_id IS 'R23: the staff member (bank.staff_member) who read the identity; NULL for the notification worker''s releases.';

DROP FUNCTION IF EXISTS api.record_personal_data_read(bigint, text, text);
