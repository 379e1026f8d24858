"""Ids as the store looks them up: one that could never have been stored finds nothing.

Id columns are ``VARCHAR(80)``, and PostgreSQL refuses a NUL character in any string
it is sent (SQLite takes both). The HTTP layer refuses such ids in request bodies; ids
from paths and query strings reach the store as they are, so each lookup here swaps an
impossible id for ``""`` (never an id), and the query answers "not found" as it would
for any missing one, on every database alike. Item and message bodies are stored as
JSON, where a NUL is written ``\\u0000``, so text needs nothing of the kind.
"""

from __future__ import annotations

from typing import overload

MAX_ID_LENGTH = 80  # the width of every id column (schema.py)
_NEVER_AN_ID = ""


def storable(value: str, max_length: int = MAX_ID_LENGTH) -> bool:
    return len(value) <= max_length and "\x00" not in value


@overload
def lookup_key(value: str) -> str: ...


@overload
def lookup_key(value: None) -> None: ...


def lookup_key(value: str | None) -> str | None:
    if value is None or storable(value):
        return value
    return _NEVER_AN_ID


def lookup_text(value: str | None) -> str | None:
    """A value compared with a wider text column (a model id): only NUL is impossible."""
    if value is None or "\x00" not in value:
        return value
    return _NEVER_AN_ID
