-- The lowest free host from a handful of candidates (postgres/0018).
ALTER TABLE ip_allocations ADD COLUMN explicit BOOLEAN NOT NULL DEFAULT TRUE;
CREATE INDEX ip_allocations_explicit_idx ON ip_allocations (space_id, host) WHERE explicit;

CREATE TABLE ip_released (
    space_id INTEGER NOT NULL,
    host     INTEGER NOT NULL,
    PRIMARY KEY (space_id, host)
);
