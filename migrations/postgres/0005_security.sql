-- Credentials that really end, and login throttling (issue 11). ICCs were folded to their
-- canonical form (no F padding, no Luhn check digit) by the store before this migration ran
-- (see src/store/icc_fold.rs); from here on every writer stores that form.

-- JWTs, sessions and refresh tokens issued before this instant are no longer accepted
-- (set by a password change and by a disable).
ALTER TABLE users ADD COLUMN tokens_valid_after TIMESTAMPTZ;

-- Failed logins per key ('user:<email>' or 'ip:<address>') in a fixed one-minute window. Kept in the
-- database so that every node throttles alike.
CREATE TABLE login_failures (
    key          TEXT PRIMARY KEY,
    window_start TIMESTAMPTZ NOT NULL,
    failures     INTEGER NOT NULL
);
