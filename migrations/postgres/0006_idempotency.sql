-- Idempotency keys (issue 12): a request sent with `Idempotency-Key` runs once per user and key; its
-- answer is kept here, so that every node replays it, until the maintenance job expires it.
CREATE TABLE idempotency_keys (
    user_id     BIGINT NOT NULL,
    -- SHA-256 of the client's key (hex): the key itself is the client's and is not kept.
    key_hash    TEXT NOT NULL,
    -- SHA-256 of method, path with query, and body: a repeat must be the same request.
    fingerprint TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    -- NULL while the first request runs.
    status      INTEGER,
    headers     TEXT,
    body        BYTEA,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key_hash)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
