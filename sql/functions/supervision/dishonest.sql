-- supervision (R22): what the dishonest list means, enforced by triggers
-- whoever writes.

-- R22, in the database, whoever writes: a person on the dishonest list is
-- not reinstated, and no service of theirs is booked, checked in or
-- settled any more.
CREATE OR REPLACE FUNCTION bank.refuse_dishonest_person_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.status = 'active' AND EXISTS (SELECT 1 FROM bank.dishonest_person d WHERE d.person_id = NEW.id) THEN
        RAISE EXCEPTION 'R22: person % is on the dishonest list and is not reinstated', NEW.id
            USING ERRCODE = 'check_violation', COLUMN = 'status';
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER person_dishonest_stays_suspended BEFORE UPDATE OF status ON bank.person
    FOR EACH ROW WHEN (NEW.status = 'active') EXECUTE FUNCTION bank.refuse_dishonest_person_change();

CREATE OR REPLACE FUNCTION bank.refuse_dishonest_service() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM bank.dishonest_person LIMIT 1) AND EXISTS (
        SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
          JOIN bank.dishonest_person d ON d.person_id IN (n.volunteer_id, n.companion_id)
         WHERE (n.status IN ('booked', 'in_progress', 'checked_out') AND n.status IS DISTINCT FROM o.status)
            OR (n.settled_at IS NOT NULL AND o.settled_at IS NULL)) THEN
        RAISE EXCEPTION 'R22: no service is recorded any more for a person on the dishonest list'
            USING ERRCODE = 'check_violation', COLUMN = 'volunteer_id';
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER service_not_for_the_dishonest AFTER UPDATE ON bank.service
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bank.refuse_dishonest_service();
