-- The lowest free host of a space from a handful of candidates instead of every allocation
-- (store/ip_spaces.rs::lowest_free). Picked hosts grow from the bottom, so a free host lies just above
-- the highest picked one, just above a chosen one (`explicit`: the caller named the address), at the
-- first host, or where an address was released (`ip_released`, emptied as hosts are taken again).
-- Existing allocations count as chosen: every one of them stays a candidate's neighbour.
ALTER TABLE ip_allocations ADD COLUMN explicit BOOLEAN NOT NULL DEFAULT TRUE;
CREATE INDEX ip_allocations_explicit_idx ON ip_allocations (space_id, host) WHERE explicit;

-- Distributed by space_id with ip_allocations (store/citus.rs).
CREATE TABLE ip_released (
    space_id BIGINT NOT NULL,
    host     BIGINT NOT NULL,
    CONSTRAINT ip_released_pkey PRIMARY KEY (space_id, host)
);
