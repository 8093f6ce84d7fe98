"""Workers: claim, execute, record; heartbeat and reaper; process supervision."""

from jobglass.worker.worker import EXIT_RECYCLE, Worker, WorkerSettings

__all__ = ["EXIT_RECYCLE", "Worker", "WorkerSettings"]
