"""Run a shell job's command in its own process group."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from dataclasses import dataclass

OUTPUT_TAIL = 64 * 1024


@dataclass(slots=True)
class ShellResult:
    exit_code: int
    output: str


async def run_shell(command: str) -> ShellResult:
    """Runs to the end; if the awaiting task is cancelled the whole group is killed."""
    proc = await asyncio.create_subprocess_shell(
        command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL, start_new_session=True)
    try:
        out, _ = await proc.communicate()
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await asyncio.shield(proc.wait())
        raise
    text = out.decode("utf-8", errors="replace")
    return ShellResult(exit_code=proc.returncode or 0, output=text[-OUTPUT_TAIL:])
