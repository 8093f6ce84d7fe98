"""The PostgreSQL store, for workers spread over many machines."""

from jobglass.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
