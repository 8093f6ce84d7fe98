-- 0007: each worker's own lease (seconds of silence before it counts as dead), so the
-- reaper judges a worker by the lease it runs with, not by the reaper's own. NULL for
-- workers registered before: the reaper's lease applies to them.
ALTER TABLE jobglass_workers ADD COLUMN lease_s double precision;
