"""The one JSON codec: orjson for speed, stdlib ``json`` where its exact text is a contract.

``loads``, ``dumps`` and ``dumps_str`` are orjson (several times faster than ``json``)
and carry every request, response, stored row and upstream body. Two needs keep the
stdlib module behind this one:

- ``loads_lenient`` reads everything ``json.loads`` reads, as it reads it (integers
  beyond 64 bits exactly, ``NaN``), mostly at orjson's speed: for recording files
  written by other tools, and text a model wrote.
- ``dumps_stdlib`` writes exactly what ``json.dumps`` writes, where those bytes are
  someone else's format: the reference recorder's request keys (hashed) and indented
  files, and the prompt text a local model was trained to read and write.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# Bound to orjson's own function: the hot path pays no wrapper call.
loads = orjson.loads


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def dumps_str(value: Any) -> str:
    return orjson.dumps(value).decode()


# 20 digits before any decimal point: maybe beyond 64 bits. Recent orjson reads such an
# integer as a float (older ones refused it), so exactness needs stdlib ``json``.
_LONG_INTEGER = re.compile(r"(?<![0-9.])[0-9]{20}")
_LONG_INTEGER_BYTES = re.compile(rb"(?<![0-9.])[0-9]{20}")


def loads_lenient(data: bytes | str) -> Any:
    if _may_hold_long_integer(data):
        return json.loads(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def dumps_stdlib(
    value: Any,
    *,
    indent: int | None = None,
    sort_keys: bool = False,
    ascii_only: bool = True,
    compact: bool = False,
) -> str:
    """``json.dumps`` text: ``ascii_only`` escapes non-ASCII as ``\\uXXXX``; ``compact``
    drops the spaces after ``,`` and ``:``."""
    return json.dumps(
        value,
        indent=indent,
        sort_keys=sort_keys,
        ensure_ascii=ascii_only,
        separators=(",", ":") if compact else None,
    )


def _may_hold_long_integer(data: bytes | str) -> bool:
    if isinstance(data, str):
        return _LONG_INTEGER.search(data) is not None
    return _LONG_INTEGER_BYTES.search(data) is not None
