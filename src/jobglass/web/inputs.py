"""Reading what clients send: JSON bodies, query parameters, path ids.

Malformed JSON is 400; JSON of the wrong shape or out of range is 422 with one
entry per field problem; a body that is not JSON at all is 415. Nothing is
stored until the whole request has been read and checked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from jobglass.web.problems import FieldError, Problem

MAX_ID = 2**63 - 1
MAX_NAME = 200


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                           and media.endswith("+json"))


async def read_json(request: Request, *, optional: bool = False) -> Any:
    """The parsed body; None when `optional` and the body is empty."""
    raw = await request.body()
    if not raw.strip():
        if optional:
            return None
        raise Problem(400, "the request needs a JSON body")
    content_type = request.headers.get("content-type")
    if content_type is not None and not _json_type(content_type):
        raise Problem(415, f"send JSON (Content-Type: application/json), not {content_type}")
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
        json.dumps(value, ensure_ascii=False).encode("utf-8")  # lone surrogates cannot be stored
    except RecursionError:
        raise Problem(400, "the JSON body is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeError
        raise Problem(400, f"the body is not valid JSON: {exc}") from None
    return value


class Fields:
    """Typed reads from one JSON object, collecting every problem before raising."""

    def __init__(self, data: Any, *, prefix: str = "", where: str = "body") -> None:
        self.prefix = prefix
        self.where = where
        self.errors: list[FieldError] = []
        if not isinstance(data, dict):
            self.fail("", "must be a JSON object")
            data = {}
        self.data: dict[str, Any] = data

    def fail(self, name: str, message: str) -> None:
        self.errors.append({"in": self.where, "field": self.prefix + name, "message": message})

    def only(self, allowed: set[str]) -> None:
        for key in sorted(set(self.data) - allowed):
            self.fail(key, "is not a known field")

    def string(self, name: str, *, max_len: int = MAX_NAME, required: bool = False
               ) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.fail(name, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(name, "must be a non-empty string")
            return None
        if len(value) > max_len:
            self.fail(name, f"must be at most {max_len} characters")
            return None
        return value

    def integer(self, name: str, lo: int, hi: int) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, "must be an integer")
            return None
        if not lo <= value <= hi:
            self.fail(name, f"must be between {lo} and {hi}")
            return None
        return value

    def number(self, name: str, lo: float, hi: float, *, above: bool = False) -> float | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(name, "must be a number")
            return None
        number = float(value)
        if not math.isfinite(number) or number > hi or number < lo or (above and number <= lo):
            self.fail(name, f"must be {'above' if above else 'at least'} {lo:g} and at most {hi:g}")
            return None
        return number

    def ids(self, name: str, *, max_items: int = 1000) -> list[int]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > max_items or not all(
                isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_ID
                for v in value):
            self.fail(name, f"must be a list of at most {max_items} job ids")
            return []
        return list(value)

    def array(self, name: str) -> list[Any] | None:
        value = self.data.get(name)
        if value is not None and not isinstance(value, list):
            self.fail(name, "must be a JSON array")
            return None
        return value

    def obj(self, name: str) -> dict[str, Any] | None:
        value = self.data.get(name)
        if value is not None and not isinstance(value, dict):
            self.fail(name, "must be a JSON object")
            return None
        return value

    def check(self) -> None:
        if self.errors:
            raise Problem(422, "; ".join(f"{e['field'] or self.where}: {e['message']}"
                                         for e in self.errors[:5]), errors=self.errors)


def query_fields(params: Mapping[str, str]) -> Fields:
    """Query parameters, parsed like a JSON object of strings."""
    return Fields(dict(params), where="query")


def query_number(f: Fields, name: str, lo: float, hi: float) -> float | None:
    raw = f.data.get(name)
    if raw is None:
        return None
    try:
        f.data[name] = float(raw)
    except ValueError:
        f.fail(name, "must be a number")
        return None
    return f.number(name, lo, hi)


def query_int(f: Fields, name: str, lo: int, hi: int) -> int | None:
    raw = f.data.get(name)
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip().lstrip("-").isdigit() or len(raw) > 25:
        f.fail(name, "must be an integer")
        return None
    f.data[name] = int(raw)
    return f.integer(name, lo, hi)


def path_id(request: Request) -> int:
    """A job id from the path; ids out of range name no job."""
    raw = str(request.path_params["job_id"])
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not 1 <= int(raw) <= MAX_ID:
        raise Problem(404, f"no job with id {raw[:40]!r}")
    return int(raw)
