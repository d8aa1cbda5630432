-- IP address spaces and the addresses endpoints hold (spec/emnify-endpoints.md §1.2; postgres/0014).
CREATE TABLE ip_address_spaces (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id     INTEGER NOT NULL REFERENCES organisations (id),
    cidr       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ip_address_spaces_org_idx ON ip_address_spaces (org_id);

CREATE TABLE ip_allocations (
    space_id      INTEGER NOT NULL,
    host          INTEGER NOT NULL,
    tenant_org_id INTEGER NOT NULL,
    endpoint_id   INTEGER NOT NULL,
    PRIMARY KEY (space_id, host)
);

ALTER TABLE endpoints ADD COLUMN ip_address_space_id INTEGER;
