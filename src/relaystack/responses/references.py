"""``item_reference`` inputs: an item stored earlier, named by its id, stands in place."""

from __future__ import annotations

from typing import Protocol

from relaystack.errors import NotFound
from relaystack.responses.items import Item


class ItemFinder(Protocol):
    async def find_items(self, item_ids: list[str], owner: str) -> dict[str, Item]: ...


async def resolve_references(
    items: list[Item], store: ItemFinder, owner: str, param: str = "input"
) -> list[Item]:
    wanted = [item["id"] for item in items if item["type"] == "item_reference"]
    if not wanted:
        return items
    found = await store.find_items(wanted, owner)
    for item_id in wanted:
        if item_id not in found:
            raise NotFound(f"Item with id '{item_id}' not found.", param=param)
    return [found[item["id"]] if item["type"] == "item_reference" else item for item in items]
