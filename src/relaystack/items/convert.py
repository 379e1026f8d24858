"""Items in and out: request items to stored items, stored items to chat messages.

Both walk a list and hand each item to its kind; the kinds come from
``relaystack.catalog``, so this module knows no item type by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from relaystack.ids import IdSource
from relaystack.items.kind import ChatMessage, Item, ItemKind


def normalize_items(
    raw_items: Sequence[Any], kinds: Mapping[str, ItemKind], ids: IdSource
) -> list[Item]:
    """Validated input items (request models) in stored form."""
    return [kinds[raw.type].normalize(raw, ids) for raw in raw_items]


def to_chat_messages(
    items: Iterable[Item], instructions: str | None, kinds: Mapping[str, ItemKind]
) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    if instructions:
        messages.append({"role": "system", "content": instructions})
    for item in items:
        kinds[item["type"]].to_chat(item, messages)
    return messages
