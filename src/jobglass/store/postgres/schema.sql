-- The current schema, applied as one piece to an empty schema (search_path set to it).
-- tests/integration/test_postgres_store.py checks it equals migrations/ applied in order.
CREATE TABLE jobglass_jobs (
    id bigserial PRIMARY KEY,
    queue text NOT NULL,
    task text NOT NULL,
    kind text NOT NULL DEFAULT 'python',
    command text,
    args text NOT NULL DEFAULT '[]',
    kwargs text NOT NULL DEFAULT '{}',
    state text NOT NULL,
    priority integer NOT NULL DEFAULT 0,
    run_at double precision NOT NULL,
    created_at double precision NOT NULL,
    started_at double precision,
    finished_at double precision,
    attempt integer NOT NULL DEFAULT 0,
    errors integer NOT NULL DEFAULT 0,
    max_retries integer NOT NULL,
    backoff_base double precision NOT NULL,
    backoff_cap double precision NOT NULL,
    timeout double precision,
    unique_key text,
    lease text,
    worker_id text,
    result text,
    error text,
    reason text,
    cancel_requested boolean NOT NULL DEFAULT false,
    pending_parents integer NOT NULL DEFAULT 0,
    progress_done double precision,
    progress_total double precision,
    progress_message text,
    traceparent text,
    tracestate text,
    request_id text
);
CREATE INDEX jobglass_jobs_ready ON jobglass_jobs (queue, priority DESC, run_at, id)
    WHERE state = 'queued';
CREATE INDEX jobglass_jobs_ready_any ON jobglass_jobs (priority DESC, run_at, id)
    WHERE state = 'queued';
CREATE INDEX jobglass_jobs_running ON jobglass_jobs (worker_id, queue) WHERE state = 'running';
CREATE INDEX jobglass_jobs_blocked ON jobglass_jobs (queue) WHERE state = 'blocked';
CREATE UNIQUE INDEX jobglass_jobs_unique ON jobglass_jobs (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('blocked', 'queued', 'running');
CREATE INDEX jobglass_jobs_done ON jobglass_jobs (finished_at, queue, state)
    WHERE state IN ('succeeded', 'failed', 'cancelled');
CREATE INDEX jobglass_jobs_request ON jobglass_jobs (request_id) WHERE request_id IS NOT NULL;

CREATE TABLE jobglass_deps (
    parent_id bigint NOT NULL,
    job_id bigint NOT NULL,
    PRIMARY KEY (parent_id, job_id)
);
CREATE INDEX jobglass_deps_child ON jobglass_deps (job_id);

CREATE TABLE jobglass_attempts (
    job_id bigint NOT NULL,
    number integer NOT NULL,
    worker_id text,
    lease text,
    started_at double precision NOT NULL,
    ended_at double precision,
    outcome text,
    error_type text,
    error_message text,
    traceback text,
    evidence text,
    trace_id text,
    ready_at double precision,
    PRIMARY KEY (job_id, number)
);

CREATE TABLE jobglass_workers (
    id text PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    queues text NOT NULL,
    started_at double precision NOT NULL,
    last_heartbeat double precision NOT NULL,
    state text NOT NULL,
    current_jobs text NOT NULL DEFAULT '[]',
    jobs_done integer NOT NULL DEFAULT 0,
    evidence text,
    lease_s double precision
);

CREATE TABLE jobglass_queues (
    name text PRIMARY KEY,
    paused boolean NOT NULL DEFAULT false
);

CREATE TABLE jobglass_job_logs (
    id bigserial PRIMARY KEY,
    job_id bigint NOT NULL,
    attempt integer NOT NULL,
    ts double precision NOT NULL,
    level text NOT NULL,
    stream text NOT NULL,
    message text NOT NULL,
    fields jsonb
);
CREATE INDEX jobglass_job_logs_job ON jobglass_job_logs (job_id, attempt, id);

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

-- The ready-job pick of a claim: see migrations/0002_pick_ready.sql for why it is a function.
CREATE FUNCTION jobglass_pick_ready(p_now double precision, p_queues text[], p_limit integer,
                                    p_allow_shell boolean)
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE
SET enable_sort = off
SET enable_bitmapscan = off
SET search_path FROM CURRENT
AS $$
BEGIN
    IF cardinality(p_queues) = 0 THEN
        RETURN QUERY SELECT id FROM jobglass_jobs
            WHERE state = 'queued' AND run_at <= p_now
              AND (p_allow_shell OR kind = 'python')
              AND queue NOT IN (SELECT name FROM jobglass_queues WHERE paused)
            ORDER BY priority DESC, run_at, id LIMIT p_limit FOR UPDATE SKIP LOCKED;
    ELSE
        RETURN QUERY SELECT id FROM jobglass_jobs
            WHERE state = 'queued' AND run_at <= p_now AND queue = ANY(p_queues)
              AND (p_allow_shell OR kind = 'python')
              AND queue NOT IN (SELECT name FROM jobglass_queues WHERE paused)
            ORDER BY priority DESC, run_at, id LIMIT p_limit FOR UPDATE SKIP LOCKED;
    END IF;
END
$$;

CREATE TABLE jobglass_stats (
    minute bigint NOT NULL,
    queue text NOT NULL,
    succeeded bigint NOT NULL DEFAULT 0,
    failed bigint NOT NULL DEFAULT 0,
    retried bigint NOT NULL DEFAULT 0,
    wait bigint[] NOT NULL,
    PRIMARY KEY (minute, queue)
);
