"""Request bodies of ``/v1/conversations``, validated as OpenAI documents them."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from relaystack.catalog import InputItem
from relaystack.strict import StrictModel, check_metadata

# OpenAI's documented limit for one create or append call.
MAX_ITEMS_PER_CALL = 20


def _check_count(items: list[Any] | None) -> list[Any] | None:
    if items is not None and len(items) > MAX_ITEMS_PER_CALL:
        raise ValueError(
            f"you may add up to {MAX_ITEMS_PER_CALL} items at a time, but got {len(items)}"
        )
    return items


class CreateConversationRequest(StrictModel):
    items: list[InputItem] | None = None
    metadata: dict[str, str] | None = None

    _items = field_validator("items")(_check_count)
    _metadata = field_validator("metadata")(check_metadata)


class UpdateConversationRequest(StrictModel):
    # Required, as in OpenAI's API; null clears it.
    metadata: dict[str, str] | None

    _metadata = field_validator("metadata")(check_metadata)


class AddItemsRequest(StrictModel):
    items: list[InputItem] = Field(min_length=1)

    _items = field_validator("items")(_check_count)
