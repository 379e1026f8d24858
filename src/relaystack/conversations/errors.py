"""The errors conversations answer with, and the translation of the store's exceptions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from relaystack.errors import NotFound, not_found
from relaystack.items.unique import duplicate_item
from relaystack.store.base import ConversationNotFound, DuplicateItem


def conversation_not_found(conversation_id: str, param: str = "conversation_id") -> NotFound:
    return not_found("Conversation", conversation_id, param)


def item_not_found(item_id: str) -> NotFound:
    return not_found("Item", item_id, "item_id")


@contextlib.contextmanager
def store_errors(
    conversation_id: str,
    *,
    conversation_param: str = "conversation_id",
    items_param: str = "items",
) -> Iterator[None]:
    try:
        yield
    except ConversationNotFound:
        raise conversation_not_found(conversation_id, conversation_param) from None
    except DuplicateItem as exc:
        raise duplicate_item(exc.item_id, items_param) from None
