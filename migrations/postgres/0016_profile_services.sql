-- The services a service profile lists (spec/emnify-endpoints.md §2): shown, not enforced. A
-- reference table on Citus, as its profiles are.
CREATE TABLE service_profile_services (
    profile_id BIGINT NOT NULL REFERENCES service_profiles (id) ON DELETE CASCADE,
    service_id SMALLINT NOT NULL,
    PRIMARY KEY (profile_id, service_id)
);
