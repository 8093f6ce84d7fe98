"""What a test does when something it needs from the machine is missing (PostgreSQL,
Debian's chromium, promtool): under CI=true it fails, because CI must not pass by
skipping; elsewhere it skips, loudly."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import pytest


def unavailable(what: str, reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}")
    print(f"\n*** SKIPPING {what}: {reason} ***", file=sys.stderr)
    pytest.skip(f"SKIPPED {what}: {reason}")
