"""The base of every request-body model: unknown keys and loose types are errors.

``extra="forbid"`` turns a typo into a 400 naming the parameter instead of a silently
ignored option; ``strict=True`` means ``"true"`` is not a boolean and ``"0.5"`` is not a
number, as with OpenAI.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def check_metadata(value: dict[str, str] | None) -> dict[str, str] | None:
    """OpenAI's documented limits: 16 pairs, keys up to 64 and values up to 512 chars."""
    if value is None:
        return value
    if len(value) > 16:
        raise ValueError("metadata can hold at most 16 key-value pairs")
    for key, item in value.items():
        if len(key) > 64:
            raise ValueError(f"metadata key {key[:20]!r}... is longer than 64 characters")
        if len(item) > 512:
            raise ValueError(f"metadata value for {key!r} is longer than 512 characters")
    return value
