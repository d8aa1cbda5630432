-- The endpoint list filters tags by LOWER(tags) LIKE '%...%'. Without statistics on that expression
-- the planner guesses a fraction of a percent matches, sorts every device of a tenant by hand and
-- takes 100 ms at 600,000 devices; with them it sees that a common tag matches a quarter and reads
-- the by-update index backwards until the page is full (2 ms). SQLite plans without such estimates.
CREATE STATISTICS endpoints_lower_tags_stats ON (LOWER(tags)) FROM endpoints;
-- Gathered now (a sample, seconds at millions of devices) rather than at autovacuum's next pass.
ANALYZE endpoints;
