-- 0004: API tokens (stored hashed) and an index for the health sample and throughput.
CREATE TABLE jobglass_tokens (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    scope text NOT NULL,
    token_hash text NOT NULL,
    created_at double precision NOT NULL,
    last_used_at double precision,
    revoked_at double precision
);
CREATE UNIQUE INDEX jobglass_tokens_hash ON jobglass_tokens (token_hash);
CREATE UNIQUE INDEX jobglass_tokens_name ON jobglass_tokens (name) WHERE revoked_at IS NULL;
-- Covers throughput (finished_at range, grouped by queue and state), the newest
-- finish and prune's finished_at range, so it replaces jobglass_jobs_finished:
-- one index less to write on every finish.
CREATE INDEX jobglass_jobs_done ON jobglass_jobs (finished_at, queue, state)
    WHERE state IN ('succeeded', 'failed', 'cancelled');
DROP INDEX jobglass_jobs_finished;
