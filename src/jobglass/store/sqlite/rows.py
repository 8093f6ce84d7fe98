"""SQLite rows to model records: the shared mapping (parents are read separately), and
jobs read by position for the hot paths."""

import sqlite3

from jobglass.store.records import JOB_COLUMNS, attempt_from_row, job_from_values, worker_from_row

JOB_SELECT = ", ".join(JOB_COLUMNS)  # select (or RETURN) these to use `job_from_values`


def tuple_cursor(db: sqlite3.Connection) -> sqlite3.Cursor:
    """A cursor yielding plain tuples (the connection's rows are by name), for
    `job_from_values`."""
    cursor = db.cursor()
    cursor.row_factory = None
    return cursor


__all__ = ["JOB_SELECT", "attempt_from_row", "job_from_values", "tuple_cursor",
           "worker_from_row"]
