"""A response created with ``conversation``: its context comes from the conversation, and
its items join it when the turn is saved. The store's exceptions become the errors a
client of ``/v1/responses`` reads (parameters ``conversation`` and ``input``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from relaystack.errors import not_found
from relaystack.items.kind import Item
from relaystack.items.unique import duplicate_item
from relaystack.store.base import ConversationNotFound, DuplicateItem, Store


async def conversation_context(store: Store, conversation_id: str, owner: str) -> list[Item]:
    """What the turn sees before its own input: every item of the conversation."""
    items = await store.conversation_items(conversation_id, owner)
    if items is None:
        raise not_found("Conversation", conversation_id, "conversation")
    return items


@contextlib.contextmanager
def joining(conversation_id: str | None) -> Iterator[None]:
    """Around the save of a turn that joins ``conversation_id``."""
    try:
        yield
    except ConversationNotFound:
        raise not_found("Conversation", conversation_id or "", "conversation") from None
    except DuplicateItem as exc:
        raise duplicate_item(exc.item_id, "input") from None
