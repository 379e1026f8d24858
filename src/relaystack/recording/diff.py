"""Explain a replay miss: which recording is nearest, and where it first differs.

A bare "recording not found" leaves one diffing JSON by hand; naming the nearest file
and the first field that differs (usually one message or one parameter) makes the
cause obvious. Only runs on a miss, so it may read every file.
"""

from __future__ import annotations

from collections.abc import Iterator
from difflib import SequenceMatcher
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


def _dissimilarity(recorded: Any, requested: Any) -> float:
    """0 (alike) to 1 (nothing in common): how far apart two differing values are.

    ``quick_ratio`` compares character counts only, so it stays linear on long prompts.
    """
    a = recorded if isinstance(recorded, str) else repr(recorded)
    b = requested if isinstance(requested, str) else repr(requested)
    return 1.0 - SequenceMatcher(None, a, b, autojunk=False).quick_ratio()


def _rank(
    candidate: dict[str, Any], requested: dict[str, Any]
) -> tuple[tuple[int, int, int, float], tuple[str, Any, Any] | None]:
    """Sort key (smaller is nearer) and the first difference.

    Same test id first, then same method and path, then the fewest differing fields;
    between as many, the smaller changes (``gpt-4o`` vs ``gpt-4o-mini`` is nearer than
    one prompt vs another).
    """
    first = None
    count, distance = 0, 0.0
    for diff in differences(candidate, requested, ""):
        first = first or diff
        count += 1
        distance += _dissimilarity(diff[1], diff[2])
        if count >= _MAX_DIFFS:
            break
    rank = (
        int(candidate["test_id"] != requested["test_id"]),
        int(
            (candidate["method"], candidate["endpoint"])
            != (requested["method"], requested["endpoint"])
        ),
        count,
        distance,
    )
    return rank, first


def nearest_explanation(store: RecordingStore, requested: dict[str, Any]) -> str:
    """One line naming the nearest recording and its first difference from ``requested``.

    ``requested`` has the hashed fields: test_id, method, endpoint (path), body.
    """
    best: tuple[tuple[int, int, int, float], str, tuple[str, Any, Any] | None] | None = None
    for name, parsed in store.parsed_names():
        if parsed.is_models:
            continue
        try:
            candidate = _comparable(store.load(name))
        except (OSError, ValueError):
            continue
        rank, first = _rank(candidate, requested)
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
        f"recorded {_shown(path, recorded)}, requested {_shown(path, requested_value)}."
    )


def _shown(path: str, value: Any) -> str:
    if path == "test_id" and value is None:
        return "no test id"
    return _short(value)
