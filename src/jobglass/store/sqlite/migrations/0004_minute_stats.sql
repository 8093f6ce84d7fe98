-- 0004: per-minute, per-queue figures for charts.
CREATE TABLE jobglass_stats (
    minute INTEGER NOT NULL,
    queue TEXT NOT NULL,
    succeeded INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    retried INTEGER NOT NULL DEFAULT 0,
    wait TEXT NOT NULL,
    PRIMARY KEY (minute, queue)
) WITHOUT ROWID;
