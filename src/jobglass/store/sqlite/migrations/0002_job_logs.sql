-- 0002: stored per-attempt job logs.
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
