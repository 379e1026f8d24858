"""Does a turn's context fit its model's window, and what gives way when it does not.

``truncation: "auto"`` drops the oldest items until the context and the answer's cap
fit the window. Never dropped: the turn's new input and compaction items (the
instructions are not an item). A tool call and its output go together, so no upstream
sees a result without its call. How many were dropped is a log line naming the response
(a client's ``metadata`` is its own, so nothing is written there). ``"disabled"`` leaves
the context whole, and one larger than the window is a 400 ``context_length_exceeded``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from relaystack.catalog import ITEM_KINDS
from relaystack.errors import InvalidRequest
from relaystack.inference.base import ModelContext
from relaystack.inference.tokens import at_most
from relaystack.items.convert import to_chat_messages
from relaystack.items.kind import ChatMessage, Item


@dataclass(frozen=True)
class Fitted:
    items: list[Item]
    messages: list[ChatMessage]  # the items as chat messages, with the instructions
    input_tokens: int | None  # None: far inside the window, so not counted
    dropped: int


def chat_tokens(
    context: ModelContext, messages: list[ChatMessage], tools: list[dict[str, Any]]
) -> int:
    return context.tokenizer.count_chat(messages, tools)


def item_tokens(
    context: ModelContext,
    items: Sequence[Item],
    instructions: str | None,
    tools: list[dict[str, Any]],
) -> int:
    """The tokens of what the upstream would read: instructions, items, tools."""
    return chat_tokens(context, to_chat_messages(items, instructions, ITEM_KINDS), tools)


def context_length_exceeded(tokens: int, window: int) -> InvalidRequest:
    return InvalidRequest(
        f"Your input exceeds the context window of this model ({tokens} tokens; the model "
        f"reads {window}). Please adjust your input and try again, or set "
        "truncation to 'auto'.",
        param="input",
        code="context_length_exceeded",
    )


def fit(
    context: ModelContext,
    items: Sequence[Item],
    instructions: str | None,
    tools: list[dict[str, Any]],
    *,
    protected: Callable[[Item], bool],
    truncation: str,
    max_output_tokens: int | None,
) -> Fitted:
    """The items to send, or ``context_length_exceeded``."""
    budget = context.window
    if truncation == "auto" and max_output_tokens is not None and max_output_tokens < budget:
        budget -= max_output_tokens  # room for the answer, too
    messages = to_chat_messages(items, instructions, ITEM_KINDS)
    if at_most(messages, tools) <= budget:
        return Fitted(list(items), messages, None, 0)
    tokens = chat_tokens(context, messages, tools)
    if tokens <= budget:
        return Fitted(list(items), messages, tokens, 0)
    if truncation != "auto":
        raise context_length_exceeded(tokens, context.window)
    units = _droppable_units(items, protected)

    def after_dropping(count: int) -> tuple[list[Item], int]:
        gone = {index for unit in units[:count] for index in unit}
        kept = [item for index, item in enumerate(items) if index not in gone]
        return kept, item_tokens(context, kept, instructions, tools)

    # Fewest units dropped that fit: the count only falls as more go (binary search:
    # a few full counts rather than one per item).
    low, high = 1, len(units)
    best: tuple[list[Item], int] | None = None
    while low <= high:
        middle = (low + high) // 2
        kept, kept_tokens = after_dropping(middle)
        if kept_tokens <= budget:
            best, high = (kept, kept_tokens), middle - 1
        else:
            low = middle + 1
    if best is None:
        kept, kept_tokens = after_dropping(len(units))
        if kept_tokens > context.window:
            raise context_length_exceeded(kept_tokens, context.window)
        best = (kept, kept_tokens)
    kept = best[0]
    messages = to_chat_messages(kept, instructions, ITEM_KINDS)
    return Fitted(kept, messages, best[1], len(items) - len(kept))


def _droppable_units(items: Sequence[Item], protected: Callable[[Item], bool]) -> list[list[int]]:
    """Indexes that go together, oldest first: one item, or a call with its outputs."""
    groups: dict[str, list[int]] = {}
    units: list[list[int]] = []
    for index, item in enumerate(items):
        call_id = item.get("call_id") if item["type"] != "message" else None
        if isinstance(call_id, str):
            if call_id not in groups:
                groups[call_id] = []
                units.append(groups[call_id])
            groups[call_id].append(index)
        else:
            units.append([index])
    return [unit for unit in units if not any(protected(items[index]) for index in unit)]
