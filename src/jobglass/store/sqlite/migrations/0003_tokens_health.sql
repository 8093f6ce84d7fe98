-- 0003: API tokens (stored hashed) and an index for the health sample and throughput.
CREATE TABLE jobglass_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_used_at REAL,
    revoked_at REAL
);
CREATE UNIQUE INDEX jobglass_tokens_hash ON jobglass_tokens (token_hash);
CREATE UNIQUE INDEX jobglass_tokens_name ON jobglass_tokens (name) WHERE revoked_at IS NULL;
CREATE INDEX jobglass_jobs_done ON jobglass_jobs (finished_at, queue, state)
    WHERE state IN ('succeeded', 'failed', 'cancelled');
