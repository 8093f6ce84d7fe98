"""SQLite rows to model records: the shared mapping (parents are read separately)."""

from jobglass.store.records import attempt_from_row, job_from_row, worker_from_row

__all__ = ["attempt_from_row", "job_from_row", "worker_from_row"]
