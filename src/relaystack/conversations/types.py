"""Request bodies of ``/v1/conversations``, validated as OpenAI documents them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from relaystack.responses.types import InputItem

# OpenAI's documented limit for one create or append call.
MAX_ITEMS_PER_CALL = 20


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_metadata(value: dict[str, str] | None) -> dict[str, str] | None:
    # OpenAI's documented limits: 16 pairs, keys up to 64 and values up to 512 chars.
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


def _check_count(items: list[InputItem] | None) -> list[InputItem] | None:
    if items is not None and len(items) > MAX_ITEMS_PER_CALL:
        raise ValueError(
            f"you may add up to {MAX_ITEMS_PER_CALL} items at a time, but got {len(items)}"
        )
    return items


class CreateConversationRequest(_Strict):
    items: list[InputItem] | None = None
    metadata: dict[str, str] | None = None

    _items = field_validator("items")(_check_count)
    _metadata = field_validator("metadata")(check_metadata)


class UpdateConversationRequest(_Strict):
    # Required, as in OpenAI's API; null clears it.
    metadata: dict[str, str] | None

    _metadata = field_validator("metadata")(check_metadata)


class AddItemsRequest(_Strict):
    items: list[InputItem] = Field(min_length=1)

    _items = field_validator("items")(_check_count)
