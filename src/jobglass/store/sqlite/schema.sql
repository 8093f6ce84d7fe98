-- The current schema, applied as one piece to an empty database.
-- tests/integration/test_sqlite_schema.py checks it equals migrations/ applied in order.
CREATE TABLE jobglass_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    task TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'python',
    command TEXT,
    args TEXT NOT NULL DEFAULT '[]',
    kwargs TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    run_at REAL NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    attempt INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    max_retries INTEGER NOT NULL,
    backoff_base REAL NOT NULL,
    backoff_cap REAL NOT NULL,
    timeout REAL,
    unique_key TEXT,
    lease TEXT,
    worker_id TEXT,
    result TEXT,
    error TEXT,
    reason TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    pending_parents INTEGER NOT NULL DEFAULT 0,
    progress_done REAL,
    progress_total REAL,
    progress_message TEXT,
    traceparent TEXT,
    tracestate TEXT,
    request_id TEXT
);
CREATE INDEX jobglass_jobs_ready ON jobglass_jobs (queue, priority DESC, run_at, id)
    WHERE state = 'queued';
CREATE INDEX jobglass_jobs_ready_any ON jobglass_jobs (priority DESC, run_at, id)
    WHERE state = 'queued';
CREATE INDEX jobglass_jobs_running ON jobglass_jobs (worker_id, queue) WHERE state = 'running';
CREATE INDEX jobglass_jobs_blocked ON jobglass_jobs (queue) WHERE state = 'blocked';
CREATE UNIQUE INDEX jobglass_jobs_unique ON jobglass_jobs (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('blocked', 'queued', 'running');
CREATE INDEX jobglass_jobs_request ON jobglass_jobs (request_id) WHERE request_id IS NOT NULL;

CREATE TABLE jobglass_deps (
    parent_id INTEGER NOT NULL,
    job_id INTEGER NOT NULL,
    PRIMARY KEY (parent_id, job_id)
) WITHOUT ROWID;
CREATE INDEX jobglass_deps_child ON jobglass_deps (job_id);

CREATE TABLE jobglass_attempts (
    job_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    worker_id TEXT,
    lease TEXT,
    started_at REAL NOT NULL,
    ended_at REAL,
    outcome TEXT,
    error_type TEXT,
    error_message TEXT,
    traceback TEXT,
    evidence TEXT,
    trace_id TEXT,
    ready_at REAL,
    PRIMARY KEY (job_id, number)
) WITHOUT ROWID;

-- lease_s sits where migration 0008's ADD COLUMN puts it, so both schemas read alike.
CREATE TABLE jobglass_workers (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    queues TEXT NOT NULL,
    started_at REAL NOT NULL,
    last_heartbeat REAL NOT NULL,
    state TEXT NOT NULL,
    current_jobs TEXT NOT NULL DEFAULT '[]',
    jobs_done INTEGER NOT NULL DEFAULT 0,
    evidence TEXT
    , lease_s REAL);

CREATE TABLE jobglass_queues (
    name TEXT PRIMARY KEY,
    paused INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE jobglass_job_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    ts REAL NOT NULL,
    level TEXT NOT NULL,
    stream TEXT NOT NULL,
    message TEXT NOT NULL,
    fields TEXT
);
CREATE INDEX jobglass_job_logs_job ON jobglass_job_logs (job_id, attempt, id);

-- 0003: API tokens and the health sample's index.
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

CREATE TABLE jobglass_stats (
    minute INTEGER NOT NULL,
    queue TEXT NOT NULL,
    succeeded INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    retried INTEGER NOT NULL DEFAULT 0,
    wait TEXT NOT NULL,
    PRIMARY KEY (minute, queue)
) WITHOUT ROWID;
