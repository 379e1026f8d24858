"""The ``item_reference`` input: an item stored earlier, named by its id, stands in place.

Normalising leaves a placeholder; ``resolve_references`` swaps in the stored item, so
nothing past the request edge ever sees a reference.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Protocol

from relaystack.errors import not_found
from relaystack.ids import IdSource
from relaystack.items.kind import ChatMessage, Item
from relaystack.strict import StrictModel


class ItemReferenceInput(StrictModel):
    """An item stored earlier (by any response or conversation), named by its id."""

    type: Literal["item_reference"]
    id: str


class ItemFinder(Protocol):
    async def find_items(self, item_ids: list[str], owner: str) -> dict[str, Item]: ...


class ItemReferenceKind:
    item_type: ClassVar[str] = "item_reference"
    input_model: ClassVar[type[StrictModel]] = ItemReferenceInput

    def normalize(self, raw: ItemReferenceInput, ids: IdSource) -> Item:
        return {"type": "item_reference", "id": raw.id}

    def to_chat(self, item: Item, messages: list[ChatMessage]) -> None:
        raise AssertionError("item references are resolved before any chat mapping")


ITEM_REFERENCE = ItemReferenceKind()


async def resolve_references(
    items: list[Item], store: ItemFinder, owner: str, param: str = "input"
) -> list[Item]:
    wanted = [item["id"] for item in items if item["type"] == "item_reference"]
    if not wanted:
        return items
    found = await store.find_items(wanted, owner)
    for item_id in wanted:
        if item_id not in found:
            raise not_found("Item", item_id, param)
    return [found[item["id"]] if item["type"] == "item_reference" else item for item in items]
