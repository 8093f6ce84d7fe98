-- 0005: per-minute, per-queue figures for charts; workers add to them as jobs end.
CREATE TABLE jobglass_stats (
    minute bigint NOT NULL,
    queue text NOT NULL,
    succeeded bigint NOT NULL DEFAULT 0,
    failed bigint NOT NULL DEFAULT 0,
    retried bigint NOT NULL DEFAULT 0,
    wait bigint[] NOT NULL,
    PRIMARY KEY (minute, queue)
);
