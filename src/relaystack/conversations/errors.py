"""The errors conversations answer with, and the translation of the store's exceptions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from relaystack.errors import InvalidRequest, NotFound
from relaystack.store.base import ConversationNotFound, DuplicateItem, Item


def conversation_not_found(conversation_id: str, param: str = "conversation_id") -> NotFound:
    # The same words whether it never existed or belongs to someone else.
    return NotFound(f"Conversation with id '{conversation_id}' not found.", param=param)


def item_not_found(item_id: str) -> NotFound:
    return NotFound(f"Item with id '{item_id}' not found.", param="item_id")


def duplicate_item(item_id: str, param: str) -> InvalidRequest:
    return InvalidRequest(
        f"Duplicate item found with id '{item_id}'.", param=param, code="duplicate_item"
    )


def check_unique(new: Iterable[Item], existing: Iterable[Item] = (), param: str = "items") -> None:
    """Items keep their ids, so an id may name only one item of a conversation."""
    seen = {item["id"] for item in existing}
    for item in new:
        if item["id"] in seen:
            raise duplicate_item(item["id"], param)
        seen.add(item["id"])


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
