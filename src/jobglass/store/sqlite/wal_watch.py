"""Notice another process's commit at once, without polling: inotify on the WAL file.

Every commit in WAL mode writes the `-wal` file beside the database, and the kernel
tells whoever watches it (inotify, Linux). An idle worker waits for that, then asks
SQLite (`PRAGMA data_version`, which alone tells another connection's commit from
its own): a job enqueued by a web process starts within a millisecond or two, where
the data_version poll alone took ~10 ms on average, and an idle worker spends
nothing on it. Where inotify is missing (macOS, network file systems) or the WAL
file is not there yet, the poll every `poll` seconds still notices every commit.

The kernel reports the write of a commit's frames, which comes before the commit is
done: at synchronous=FULL the WAL is then synced to disk, and only then does the
commit show. So after a write the watch waits briefly, a few times, with growing
pauses (`SETTLE`, ~0.5 s in all, for a slow disk's sync), before going back to
waiting for the next write. While it watches, the poll is only a safety net and runs
every `WATCHED_POLL` seconds: asking SQLite 50 times a second was most of an idle
worker's CPU (~3% of a core; ~0.7% without it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os

SETTLE = (0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256)  # s
WATCHED_POLL = 1.0  # seconds between data_version polls while inotify watches

try:
    from inotify_simple import INotify, flags
except (ImportError, OSError):  # pragma: no cover - not Linux
    INotify = None


class WalWatch:
    def __init__(self, db_path: str) -> None:
        self.wal_path = db_path + "-wal"
        self._inotify: INotify | None = None
        self._inode: int | None = None
        self._settling = len(SETTLE)  # index of the next pause after a write; none left

    def _watch(self) -> INotify | None:
        """The watch on the WAL file as it is now; made anew if the file was replaced."""
        if INotify is None:
            return None
        try:
            inode = os.stat(self.wal_path).st_ino
        except OSError:  # gone: a watch on the old file would see nothing, poll instead
            self.close()
            return None
        if self._inotify is not None and inode == self._inode:
            return self._inotify
        self.close()
        try:
            watch = INotify()
        except (OSError, AttributeError):  # no inotify in this libc, or out of watches
            return None
        try:
            watch.add_watch(self.wal_path, flags.MODIFY)
        except OSError:
            watch.close()
            return None
        self._inotify, self._inode = watch, inode
        return watch

    def poll_every(self, unwatched: float) -> float:
        """Seconds between data_version polls: `unwatched` (the URL's `poll`) unless
        the WAL file is watched, when the poll is only a safety net."""
        return max(unwatched, WATCHED_POLL) if self._inotify is not None else unwatched

    def forget(self) -> None:
        """Drop the writes seen so far. Call it before asking SQLite what changed, so a
        commit that lands after the question still ends the next `wait`."""
        watch = self._watch()
        if watch is not None:
            watch.read(timeout=0)

    async def wait(self, woken: asyncio.Event, limit: float) -> None:
        """Return when `woken` is set, the WAL file is written, or `limit` passed; just
        after a write, return after the next of the short `SETTLE` pauses as well."""
        if woken.is_set():
            return
        watch = self._watch()
        if watch is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), limit)
            return
        if self._settling < len(SETTLE):
            limit = min(limit, SETTLE[self._settling])
            self._settling += 1
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[bool] = loop.create_future()
        fd = watch.fileno()
        loop.add_reader(fd, _end, ended, True)
        waiter = asyncio.ensure_future(woken.wait())
        waiter.add_done_callback(lambda _: _end(ended, False))
        timer = loop.call_later(limit, _end, ended, False)
        try:
            if await ended:
                self._settling = 0
        finally:
            timer.cancel()
            waiter.cancel()
            loop.remove_reader(fd)

    def close(self) -> None:
        if self._inotify is not None:
            self._inotify.close()
        self._inotify = self._inode = None


def _end(ended: asyncio.Future[bool], written: bool) -> None:
    if not ended.done():
        ended.set_result(written)
