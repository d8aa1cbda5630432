-- IP address spaces and the addresses endpoints hold (spec/emnify-endpoints.md §1.2). A space belongs
-- to an org and serves its subtree, so it is not one tenant's: spaces are distributed by their id and
-- the allocations by their space (docs/scale-out.md), each allocation's primary key keeping an address
-- given once per space across every tenant.
CREATE SEQUENCE ip_address_spaces_id_seq AS BIGINT;
CREATE TABLE ip_address_spaces (
    id         BIGINT PRIMARY KEY DEFAULT nextval('ip_address_spaces_id_seq'),
    org_id     BIGINT NOT NULL REFERENCES organisations (id),
    cidr       TEXT NOT NULL,
    version    SMALLINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
ALTER SEQUENCE ip_address_spaces_id_seq OWNED BY ip_address_spaces.id;
CREATE INDEX ip_address_spaces_org_idx ON ip_address_spaces (org_id);

-- host: the address's offset from the space's network address.
CREATE TABLE ip_allocations (
    space_id      BIGINT NOT NULL,
    host          BIGINT NOT NULL,
    tenant_org_id BIGINT NOT NULL,
    endpoint_id   BIGINT NOT NULL,
    CONSTRAINT ip_allocations_space_id_host_key PRIMARY KEY (space_id, host)
);

ALTER TABLE endpoints ADD COLUMN ip_address_space_id BIGINT;
