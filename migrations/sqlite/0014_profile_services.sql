-- The services a service profile lists (spec/emnify-endpoints.md §2; postgres/0016).
CREATE TABLE service_profile_services (
    profile_id INTEGER NOT NULL REFERENCES service_profiles (id) ON DELETE CASCADE,
    service_id INTEGER NOT NULL,
    PRIMARY KEY (profile_id, service_id)
);
