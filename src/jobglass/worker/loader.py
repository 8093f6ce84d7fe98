"""Find the user's `App` from a `module:attribute` string."""

from __future__ import annotations

import importlib
import os
import sys

from jobglass.app import App
from jobglass.model import ConfigError


def load_app(spec: str) -> App:
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        raise ConfigError(f"--app must look like module:app, not {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like `python -m`, find modules beside the caller
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import {module_name!r}: {exc}") from exc
    value = getattr(module, attribute or "app", None)
    if not isinstance(value, App):
        raise ConfigError(f"{spec!r} is not a jobglass.App (found {type(value).__name__})")
    return value
