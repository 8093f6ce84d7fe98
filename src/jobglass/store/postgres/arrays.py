"""Array parameters as PostgreSQL array literals, built at C speed.

Batches travel as one array per column (`unnest(%s::bigint[], ...)`). psycopg's
list dumper adapts every element in Python (about 1-2 µs each), which at a
thousand jobs times twenty columns was most of an enqueue's client time. These
helpers build the same text the server parses (`{1,2,NULL}`) with `str.join`; the
SQL casts the parameter to the array type. Every text element is quoted, with
backslash and double quote escaped, so no content can break out of its element.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import repeat
from typing import Any


def _literal(element: Callable[[Any], str], values: Iterable[Any]) -> str:
    seq = values if isinstance(values, list | tuple) else list(values)
    if len(seq) > 1 and seq.count(seq[0]) == len(seq):
        # A batch mostly repeats a column's value (one task, queue, time, outcome):
        # encode it once. Equal values encode alike here (1 == 1.0 == True included).
        return "{" + ",".join(repeat(element(seq[0]), len(seq))) + "}"
    return "{" + ",".join(map(element, seq)) + "}"


def _int(v: int | None) -> str:
    return "NULL" if v is None else str(int(v))


def _float(v: float | None) -> str:
    # repr() round-trips a float exactly; 'inf' and 'nan' are valid float8 input too.
    return "NULL" if v is None else repr(float(v))


def _text(v: str | None) -> str:
    return "NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _bool(v: bool | None) -> str:
    return "NULL" if v is None else ("t" if v else "f")


def ints(values: Iterable[int | None]) -> str:
    return _literal(_int, values)


def floats(values: Iterable[float | None]) -> str:
    return _literal(_float, values)


def texts(values: Iterable[str | None]) -> str:
    return _literal(_text, values)


def bools(values: Iterable[bool | None]) -> str:
    return _literal(_bool, values)
