"""Run a shell job's command in its own process group."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass

OUTPUT_TAIL = 64 * 1024


@dataclass(slots=True)
class ShellResult:
    exit_code: int
    output: str


async def run_shell(command: str, on_output: Callable[[str], None] | None = None
                    ) -> ShellResult:
    """Runs to the end, passing output on as it comes; if the awaiting task is
    cancelled the whole process group is killed."""
    proc = await asyncio.create_subprocess_shell(
        command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL, start_new_session=True)
    tail = bytearray()
    try:
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(65536):
            tail += chunk
            del tail[:-OUTPUT_TAIL]
            if on_output is not None:
                on_output(chunk.decode("utf-8", errors="replace"))
        await proc.wait()
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await asyncio.shield(proc.wait())
        raise
    return ShellResult(exit_code=proc.returncode or 0,
                       output=tail.decode("utf-8", errors="replace"))
