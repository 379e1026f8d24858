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
    return results_after_calls(messages)


def results_after_calls(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Every ``tool`` message moved right after the assistant message holding its call.

    Chat-completions upstreams reject a ``tool_calls`` message that other messages
    separate from its results, while a client may interleave items between a call and
    its output (and a tool's result item may come from a later turn). A result whose
    call is nowhere in the list stays where it was; order is otherwise kept.
    """
    call_ids = {
        call["id"]
        for message in messages
        if message["role"] == "assistant"
        for call in message.get("tool_calls") or ()
    }
    results: dict[str, list[ChatMessage]] = {}
    for message in messages:
        if message["role"] == "tool" and message.get("tool_call_id") in call_ids:
            results.setdefault(message["tool_call_id"], []).append(message)
    if not results:
        return messages
    ordered: list[ChatMessage] = []
    for message in messages:
        if message["role"] == "tool" and message.get("tool_call_id") in call_ids:
            continue  # placed after its call below
        ordered.append(message)
        if message["role"] == "assistant":
            for call in message.get("tool_calls") or ():
                ordered.extend(results.pop(call["id"], ()))
    return ordered
