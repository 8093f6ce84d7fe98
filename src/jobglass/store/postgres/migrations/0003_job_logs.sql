-- 0003: stored per-attempt job logs. Lines are read by (job, attempt) with id as
-- the cursor; prune deletes them with their job.
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
