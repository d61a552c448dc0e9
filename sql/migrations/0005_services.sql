-- 0005: services, and the steps each worker takes on people, services and
-- the ledger. Each step is a function run by one worker's role, in the
-- job's transaction; each is idempotent (a retried, duplicated or rescued
-- job finds its work done and changes nothing) because it first locks the
-- request or service it acts on and looks at its state.
--
-- A service's life (the order worker moves status; the settlement worker
-- owns the hold and the payment columns):
--   (hold placed) awaiting_review --approve--> published --book--> booked
--       --check in--> in_progress --check out--> checked_out --(settled)
--   awaiting_review --reject--> rejected            (hold released)
--   awaiting_review|published|booked --cancel--> cancelled   (hold released)
--   published --(start passes unbooked)--> expired  (hold released)
--   booked --(start + grace passes, no check-in)--> no_show (hold released)

CREATE TABLE bank.service_item (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL: a city-wide item, offered in every district.
    district_code   text REFERENCES bank.district,
    category_code   text NOT NULL REFERENCES bank.service_category,
    name_zh         text NOT NULL CONSTRAINT item_named CHECK (length(name_zh) BETWEEN 1 AND 100),
    name_en         text,
    default_minutes integer NOT NULL CONSTRAINT item_length_positive CHECK (default_minutes > 0),
    request_id      bigint NOT NULL CONSTRAINT item_one_per_request UNIQUE REFERENCES bank.request,
    -- An item's name is unique within its district (or city-wide).
    CONSTRAINT item_named_once UNIQUE NULLS NOT DISTINCT (district_code, name_zh)
);
COMMENT ON TABLE bank.service_item IS 'R15: service items a district defines within the R14 categories (district NULL: city-wide), with a default length. 区级服务项目';

CREATE TYPE bank.service_status AS ENUM (
    'awaiting_review', 'published', 'rejected', 'booked', 'in_progress', 'checked_out', 'cancelled', 'expired', 'no_show'
);

CREATE TABLE bank.service (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The publish request; a retried job finds the service it created.
    request_id       bigint NOT NULL CONSTRAINT service_one_per_request UNIQUE REFERENCES bank.request,
    elder_id         bigint NOT NULL REFERENCES bank.elder,
    category_code    text NOT NULL REFERENCES bank.service_category,
    district_code    text NOT NULL REFERENCES bank.district,
    description      text NOT NULL CONSTRAINT service_description_length CHECK (length(description) BETWEEN 1 AND 500),
    -- The booked time: what the elder's hold pays for.
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    booked_minutes   integer GENERATED ALWAYS AS ((extract(epoch FROM ends_at - starts_at) / 60)::integer) STORED,
    -- R16: the elder's coins held for it (a pending transfer), placed before the service exists.
    hold_transfer_id bigint NOT NULL CONSTRAINT service_one_per_hold UNIQUE REFERENCES bank.transfer,
    status           bank.service_status NOT NULL DEFAULT 'awaiting_review',
    reviewed_by      text,
    reviewed_at      timestamptz,
    review_note      text,
    volunteer_id     bigint REFERENCES bank.volunteer,
    booked_at        timestamptz,
    -- R18: the service time the platform recorded.
    checked_in_at    timestamptz,
    checked_out_at   timestamptz,
    -- Written by the settlement worker only (column privileges below).
    settled_at       timestamptz,
    settled_minutes  integer,
    hold_released_at timestamptz,
    -- R15: the district or city-wide item asked for, if any.
    item_id          bigint REFERENCES bank.service_item,
    -- Where the service takes place (WGS 84), for R17's distances; never shown to volunteers.
    latitude         double precision CONSTRAINT service_latitude_range CHECK (latitude BETWEEN -90 AND 90),
    longitude        double precision CONSTRAINT service_longitude_range CHECK (longitude BETWEEN -180 AND 180),
    CONSTRAINT service_location_whole CHECK ((latitude IS NULL) = (longitude IS NULL)),
    -- Whole minutes, and a real length.
    CONSTRAINT service_times_whole_minutes CHECK (ends_at > starts_at AND extract(second FROM ends_at - starts_at) = 0),
    -- Booked, served and no-show services have their volunteer.
    CONSTRAINT service_booking_has_volunteer CHECK (
        status NOT IN ('booked', 'in_progress', 'checked_out', 'no_show') OR (volunteer_id IS NOT NULL AND booked_at IS NOT NULL)),
    -- R18: a service in progress was checked in; a finished one also out, not before it went in.
    CONSTRAINT service_checked_in CHECK (status NOT IN ('in_progress', 'checked_out') OR checked_in_at IS NOT NULL),
    CONSTRAINT service_checked_out CHECK (
        (status = 'checked_out') = (checked_out_at IS NOT NULL) AND (checked_out_at IS NULL OR checked_out_at >= checked_in_at)),
    -- R6: only a checked-out service is paid, never more than booked.
    CONSTRAINT service_settled_after_check_out CHECK (
        (settled_at IS NULL) = (settled_minutes IS NULL)
        AND (settled_at IS NULL OR (status = 'checked_out' AND settled_minutes BETWEEN 0 AND booked_minutes))),
    -- A hold ends once: paid (settled) or released.
    CONSTRAINT service_hold_ends_once CHECK (settled_at IS NULL OR hold_released_at IS NULL),
    -- R20: one volunteer never holds two bookings whose times overlap,
    -- however many order workers book at once.
    CONSTRAINT service_no_double_booking EXCLUDE USING gist (
        volunteer_id WITH =, tstzrange(starts_at, ends_at) WITH &&
    ) WHERE (status IN ('booked', 'in_progress', 'checked_out'))
);
COMMENT ON TABLE bank.service IS 'Services: an elder''s demand, its review, booking, check-in and check-out (R16-R20), and its settlement (R6). 服务订单';
CREATE INDEX service_elder_idx ON bank.service (elder_id);
CREATE INDEX service_open_idx ON bank.service (district_code, starts_at) WHERE status = 'published';
CREATE INDEX service_published_place_idx ON bank.service (latitude, longitude) WHERE status = 'published';
-- Settling a service changes only columns no index covers (settled_at,
-- settled_minutes), so with room left in each page the update is HOT: no
-- index entry is written, the exclusion constraint's GiST index included.
ALTER TABLE bank.service SET (fillfactor = 85);

ALTER TABLE bank.transfer ADD CONSTRAINT transfer_service_known FOREIGN KEY (service_id) REFERENCES bank.service;

GRANT SELECT, INSERT, UPDATE (status, reviewed_by, reviewed_at, review_note, volunteer_id, booked_at, checked_in_at, checked_out_at)
    ON bank.service TO timebank_order;
GRANT SELECT, UPDATE (settled_at, settled_minutes, hold_released_at) ON bank.service TO timebank_settlement;
GRANT SELECT (id, idempotency_key, service_id, amount) ON bank.transfer TO timebank_order;
GRANT SELECT, INSERT ON bank.service_item TO timebank_order;
GRANT SELECT ON bank.service_item TO timebank_settlement, timebank_enrollment;
