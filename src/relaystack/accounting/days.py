"""Day parameters (``YYYY-MM-DD``), checked the same way by the endpoint and the CLI."""

from __future__ import annotations

import datetime


def checked_day(value: str | None, name: str) -> str | None:
    """``value`` when it is a real date, else ``ValueError`` naming the parameter."""
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"'{name}' must be a date as YYYY-MM-DD, not {value!r}.") from None
