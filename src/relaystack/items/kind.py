"""The interface of one item ``type``: everything the engine needs to know about it.

A kind is a small object, not a class hierarchy of items: items stay plain JSON-shaped
dicts (typed as ``TypedDict``s), which is what the store keeps and the wire carries, so
nothing is converted on the hot path.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from relaystack.ids import IdSource
from relaystack.strict import StrictModel

# Items are JSON objects; each kind's module types its own with a TypedDict.
Item = dict[str, Any]
ChatMessage = dict[str, Any]


def stored_form(
    raw: StrictModel, prefix: str, ids: IdSource, *, exclude: frozenset[str] = frozenset()
) -> Item:
    """An input item as kept: the fields the client gave (but ``exclude``), and its id,
    or a new one with ``prefix`` when it came without."""
    item = raw.model_dump(exclude_none=True, exclude=set(exclude))
    item["id"] = item.get("id") or ids(prefix)
    return item


class ItemKind(Protocol):
    """One item type, e.g. ``message`` or ``function_call``."""

    item_type: ClassVar[str]
    # The item as a client may send it in ``input`` (or a conversation's ``items``).
    input_model: ClassVar[type[StrictModel]]

    def normalize(self, raw: Any, ids: IdSource) -> Item:
        """The validated input item in stored form: with an id and a status."""
        ...

    def to_chat(self, item: Item, messages: list[ChatMessage]) -> None:
        """Append (or merge into the last) the chat message(s) this item becomes.
        Kinds the upstream has no place for append nothing."""
        ...
