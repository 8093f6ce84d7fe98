-- 0005: fewer indexes touched by each claim and finish.
-- jobglass_jobs_active (queue, state) changed twice per job (queued -> running ->
-- finished) and cost about a quarter of the store's time per job; the per-queue
-- counts it served now come from partial indexes that a job passes through anyway:
-- queued from jobglass_jobs_oldest, running from jobglass_jobs_running (now
-- covering the queue), blocked from an index only dependent jobs touch.
-- jobglass_jobs_done (finished_at, queue, state) covers jobglass_jobs_finished.
DROP INDEX jobglass_jobs_active;
DROP INDEX jobglass_jobs_finished;
DROP INDEX jobglass_jobs_running;
CREATE INDEX jobglass_jobs_running ON jobglass_jobs (worker_id, queue) WHERE state = 'running';
CREATE INDEX jobglass_jobs_blocked ON jobglass_jobs (queue) WHERE state = 'blocked';
