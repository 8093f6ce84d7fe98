-- 0006: when each attempt's job became ready (its run_at at the claim), so an
-- attempt's queue wait (started_at - ready_at) is exact, apart from its delay or backoff.
ALTER TABLE jobglass_attempts ADD COLUMN ready_at double precision;
