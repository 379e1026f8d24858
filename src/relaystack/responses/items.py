"""Input items as the store keeps them: every item typed, with an id and a status.

The client may send ``input`` as a string or as loosely shaped items; we keep one
canonical form so that chaining, listing and conversion to chat messages read one shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from relaystack.ids import IdSource
from relaystack.responses.types import (
    CreateResponseRequest,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputItem,
    ItemReference,
    MessageItem,
    ReasoningItem,
)

Item = dict[str, Any]

_ID_PREFIX = {
    "message": "msg",
    "function_call": "fc",
    "function_call_output": "fco",
    "reasoning": "rs",
}


def normalize_input(request: CreateResponseRequest, ids: IdSource) -> list[Item]:
    if request.input is None:
        return []
    if isinstance(request.input, str):
        return [_message("user", [{"type": "input_text", "text": request.input}], None, ids)]
    return normalize_items(request.input, ids)


def normalize_items(raw_items: Sequence[InputItem], ids: IdSource) -> list[Item]:
    """Validated input items in canonical form (also what conversations store)."""
    items: list[Item] = []
    for raw in raw_items:
        if isinstance(raw, MessageItem):
            items.append(_message(raw.role, _message_content(raw), raw.id, ids, raw.status))
        elif isinstance(raw, FunctionCallItem | FunctionCallOutputItem | ReasoningItem):
            item = raw.model_dump(exclude_none=True)
            item["id"] = raw.id or ids(_ID_PREFIX[raw.type])
            item.setdefault("status", "completed")
            items.append(item)
        elif isinstance(raw, ItemReference):
            # A placeholder until references.resolve_references fetches the item.
            items.append({"type": "item_reference", "id": raw.id})
    return items


def _message_content(message: MessageItem) -> list[dict[str, Any]]:
    if isinstance(message.content, str):
        kind = "output_text" if message.role == "assistant" else "input_text"
        part: dict[str, Any] = {"type": kind, "text": message.content}
        if kind == "output_text":
            part.update(annotations=[], logprobs=[])
        return [part]
    return [part.model_dump(exclude_none=True) for part in message.content]


def _message(
    role: str,
    content: list[dict[str, Any]],
    item_id: str | None,
    ids: IdSource,
    status: str | None = None,
) -> Item:
    return {
        "id": item_id or ids("msg"),
        "type": "message",
        "role": role,
        "status": status or "completed",
        "content": content,
    }
