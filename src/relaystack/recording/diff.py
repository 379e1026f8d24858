"""Explain a replay miss: which recording is nearest, and where it first differs.

A bare "recording not found" leaves one diffing JSON by hand; naming the nearest file
and the first field that differs (usually one message or one parameter) makes the
cause obvious. Only runs on a miss, so it may read every file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from relaystack.recording.keys import normalize_body
from relaystack.recording.store import RecordingStore

_MAX_DIFFS = 10_000  # enough to rank candidates; stop counting beyond


def differences(recorded: Any, requested: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """Yield ``(path, recorded, requested)`` for each differing leaf, in document order."""
    if isinstance(recorded, dict) and isinstance(requested, dict):
        for k in [*recorded, *(k for k in requested if k not in recorded)]:
            sub = f"{path}.{k}" if path else k
            if k not in recorded:
                yield sub, _ABSENT, requested[k]
            elif k not in requested:
                yield sub, recorded[k], _ABSENT
            else:
                yield from differences(recorded[k], requested[k], sub)
    elif isinstance(recorded, list) and isinstance(requested, list):
        for i in range(max(len(recorded), len(requested))):
            a = recorded[i] if i < len(recorded) else _ABSENT
            b = requested[i] if i < len(requested) else _ABSENT
            yield from differences(a, b, f"{path}[{i}]")
    elif recorded != requested or type(recorded) is not type(requested):
        yield path, recorded, requested


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


_ABSENT = _Absent()


def _comparable(recording: dict[str, Any]) -> dict[str, Any]:
    request = recording.get("request") or {}
    return {
        "test_id": recording.get("test_id"),
        "method": str(request.get("method", "")).upper(),
        "endpoint": urlsplit(str(request.get("url", ""))).path,
        "body": normalize_body(request.get("body")),
    }


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def nearest_explanation(store: RecordingStore, requested: dict[str, Any]) -> str:
    """One line naming the nearest recording and its first difference from ``requested``.

    ``requested`` has the hashed fields: test_id, method, endpoint (path), body.
    Nearest = same test id first, then same method and path, then fewest differing
    leaves in the body.
    """
    best: tuple[tuple[int, int, int], str, tuple[str, Any, Any] | None] | None = None
    for name, parsed in store.parsed_names():
        if parsed.is_models:
            continue
        try:
            candidate = _comparable(store.load(name))
        except (OSError, ValueError):
            continue
        diffs = differences(candidate, requested, "")
        first = next(diffs, None)
        count = (
            0 if first is None else 1 + sum(1 for _ in zip(range(_MAX_DIFFS), diffs, strict=False))
        )
        rank = (
            int(candidate["test_id"] != requested["test_id"]),
            int(
                (candidate["method"], candidate["endpoint"])
                != (requested["method"], requested["endpoint"])
            ),
            count,
        )
        if best is None or rank < best[0]:
            best = (rank, name, first)
    if best is None:
        return f"No recordings at all in {store.directory}."
    _, name, first = best
    if first is None:
        return f"Nearest recording: {name} (same request; another occurrence of it)."
    path, recorded, requested_value = first
    return (
        f"Nearest recording: {name}; first difference at {path}: "
        f"recorded {_short(recorded)}, requested {_short(requested_value)}."
    )
