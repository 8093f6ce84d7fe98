"""Storage: the `Store` protocol and its backends, chosen by URL."""

from jobglass.store.protocol import (
    DirectEnqueue,
    HeartbeatReply,
    JobFilter,
    Page,
    Progress,
    Reaped,
    Report,
    Store,
)
from jobglass.store.urls import (
    DEFAULT_URL,
    database_url,
    direct_enqueue_from_url,
    store_from_url,
)

__all__ = [
    "DEFAULT_URL",
    "DirectEnqueue",
    "HeartbeatReply",
    "JobFilter",
    "Page",
    "Progress",
    "Reaped",
    "Report",
    "Store",
    "database_url",
    "direct_enqueue_from_url",
    "store_from_url",
]
