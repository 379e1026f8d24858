"""Create, read, update and delete conversations and their items: the engine behind
``/v1/conversations``. Items are normalised exactly as response input is, so a
conversation holds the same item shapes a response's input and output do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from relaystack.catalog import ITEM_KINDS
from relaystack.conversations.errors import (
    conversation_not_found,
    item_not_found,
    store_errors,
)
from relaystack.conversations.types import (
    AddItemsRequest,
    CreateConversationRequest,
    UpdateConversationRequest,
)
from relaystack.ids import Clock, IdSource
from relaystack.items.convert import normalize_items
from relaystack.items.kind import Item
from relaystack.items.reference import resolve_references
from relaystack.items.unique import check_unique
from relaystack.store.base import Order, Page, Store


@dataclass
class ConversationsService:
    store: Store
    ids: IdSource = field(default_factory=IdSource)
    clock: Clock = field(default_factory=Clock)

    async def create(self, request: CreateConversationRequest, owner: str) -> dict[str, Any]:
        items = await self._items(request.items or [], owner)
        check_unique(items)
        conversation = {
            "id": self.ids("conv"),
            "object": "conversation",
            "created_at": self.clock.seconds(),
            "metadata": dict(request.metadata or {}),
        }
        await self.store.create_conversation(conversation, items, owner)
        return conversation

    async def _items(self, raw: Sequence[Any], owner: str) -> list[Item]:
        items = normalize_items(raw, ITEM_KINDS, self.ids)
        return await resolve_references(items, self.store, owner, "items")

    async def get(self, conversation_id: str, owner: str) -> dict[str, Any]:
        conversation = await self.store.get_conversation(conversation_id, owner)
        if conversation is None:
            raise conversation_not_found(conversation_id)
        return conversation

    async def update(
        self, conversation_id: str, request: UpdateConversationRequest, owner: str
    ) -> dict[str, Any]:
        conversation = await self.store.update_conversation(
            conversation_id, owner, dict(request.metadata or {})
        )
        if conversation is None:
            raise conversation_not_found(conversation_id)
        return conversation

    async def delete(self, conversation_id: str, owner: str) -> dict[str, Any]:
        if not await self.store.delete_conversation(conversation_id, owner):
            raise conversation_not_found(conversation_id)
        return {"id": conversation_id, "object": "conversation.deleted", "deleted": True}

    async def add_items(
        self, conversation_id: str, request: AddItemsRequest, owner: str
    ) -> list[Item]:
        items = await self._items(request.items, owner)
        check_unique(items)
        with store_errors(conversation_id):
            await self.store.append_conversation_items(conversation_id, owner, items)
        return items

    async def list_items(
        self, conversation_id: str, owner: str, *, after: str | None, limit: int, order: Order
    ) -> Page:
        page = await self.store.list_conversation_items(
            conversation_id, owner, after=after, limit=limit, order=order
        )
        if page is None:
            raise conversation_not_found(conversation_id)
        return page

    async def get_item(self, conversation_id: str, item_id: str, owner: str) -> Item:
        item = await self.store.get_conversation_item(conversation_id, item_id, owner)
        if item is None:
            await self.get(conversation_id, owner)  # which of the two is missing?
            raise item_not_found(item_id)
        return item

    async def delete_item(self, conversation_id: str, item_id: str, owner: str) -> dict[str, Any]:
        if not await self.store.delete_conversation_item(conversation_id, item_id, owner):
            await self.get(conversation_id, owner)
            raise item_not_found(item_id)
        # OpenAI answers with the conversation the item was removed from.
        return await self.get(conversation_id, owner)
