-- 0002: the ready-job pick of a claim, as a function planned with sorts and bitmap
-- scans penalised. A queue table's statistics are nearly always stale (analysed
-- while empty, then a burst arrives), and with them the planner would read and
-- sort the whole backlog on every claim instead of walking the partial ready index
-- in order. SET clauses apply only while the function runs.
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
