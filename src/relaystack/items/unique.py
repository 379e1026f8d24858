"""Item ids are kept as given, so one id may name only one item of a conversation."""

from __future__ import annotations

from collections.abc import Iterable

from relaystack.errors import InvalidRequest
from relaystack.items.kind import Item


def duplicate_item(item_id: str, param: str) -> InvalidRequest:
    return InvalidRequest(
        f"Duplicate item found with id '{item_id}'.", param=param, code="duplicate_item"
    )


def check_unique(new: Iterable[Item], existing: Iterable[Item] = (), param: str = "items") -> None:
    seen = {item["id"] for item in existing}
    for item in new:
        if item["id"] in seen:
            raise duplicate_item(item["id"], param)
        seen.add(item["id"])
