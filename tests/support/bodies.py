"""Looking inside the request bodies the mock upstream received."""

from __future__ import annotations

from typing import Any


def nulls_in(value: Any, path: str = "") -> list[str]:
    """Where a JSON value holds a null (the upstream body must carry none)."""
    if value is None:
        return [path or "<root>"]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in nulls_in(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in nulls_in(item, f"{path}[{index}]")]
    return []
