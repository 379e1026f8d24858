"""Compaction: a conversation summarised by one model call, sealed into an item.

A ``compaction`` item's ``encrypted_content`` is a sealed JSON payload: the summary,
the owner it was made for, and ``keep``, how many items right before it stay verbatim
(the latest user turn: ``/v1/responses/compact`` answers ``[kept..., compaction]``,
and a turn compacted by ``context_management`` keeps its new input). What the upstream
reads of a history is its latest compaction item, the items it keeps, and everything
after it: the summary stands for what came before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from relaystack.catalog import ITEM_KINDS
from relaystack.errors import InvalidRequest
from relaystack.ids import IdSource
from relaystack.inference.base import ChunkStream, UpstreamError
from relaystack.inference.registry import ResolvedModel
from relaystack.items.compaction import OPENED_KEEP, OPENED_SUMMARY, CompactionItem, new_compaction
from relaystack.items.convert import to_chat_messages
from relaystack.items.kind import ChatMessage, Item
from relaystack.responses.context_window import chat_tokens
from relaystack.responses.resource import Usage, usage_from_chat
from relaystack.sealing import Sealer, SealError
from relaystack.wire.json import dumps, loads

PURPOSE = "compaction"

SUMMARY_INSTRUCTIONS = (
    "You compact conversations. Summarise the conversation you are given so that it can "
    "continue from the summary alone: keep every fact, name, number, decision, tool result "
    "and open task that matters, drop pleasantries and repetition. Answer with the summary only."
)


@dataclass(frozen=True)
class Summary:
    text: str
    usage: Usage | None


def seal(sealer: Sealer, owner: str, summary: str, keep: int) -> str:
    payload = {"owner": owner, "summary": summary, "keep": keep}
    return sealer.seal(PURPOSE, dumps(payload))


def open_items(
    items: Sequence[Item], sealer: Sealer, owner: str, param_of: Callable[[int], str]
) -> list[Item]:
    """``items`` with each compaction item replaced by an opened copy; ``param_of(i)``
    names item i in an error (``input[3].encrypted_content``)."""
    opened = list(items)
    for index, item in enumerate(items):
        if item["type"] == "compaction":
            opened[index] = _opened(item, sealer, owner, param_of(index))
    return opened


def _opened(item: Item, sealer: Sealer, owner: str, param: str) -> Item:
    try:
        payload = loads(sealer.unseal(PURPOSE, item["encrypted_content"]))
    except SealError as error:
        raise _foreign(param, str(error)) from None
    if not isinstance(payload, dict) or payload.get("owner") != owner:
        raise _foreign(param, "it was made for another owner")
    return {**item, OPENED_SUMMARY: str(payload["summary"]), OPENED_KEEP: int(payload["keep"])}


def _foreign(param: str, why: str) -> InvalidRequest:
    return InvalidRequest(
        f"The compaction item in '{param.removesuffix('.encrypted_content')}' cannot be "
        f"opened: {why}.",
        param=param,
        code="invalid_encrypted_content",
    )


def compacted_view(opened: Sequence[Item]) -> list[Item]:
    """What the upstream reads: from the latest compaction on (its summary first, then
    the items it keeps), or everything when there is none."""
    latest = next(
        (i for i in range(len(opened) - 1, -1, -1) if opened[i]["type"] == "compaction"), None
    )
    if latest is None:
        return list(opened)
    keep = min(opened[latest].get(OPENED_KEEP, 0), latest)
    return [opened[latest], *opened[latest - keep : latest], *opened[latest + 1 :]]


def since_latest_compaction(items: Sequence[Item], sealer: Sealer, owner: str) -> list[Item]:
    """``items`` from the latest compaction's kept items on: what a chain held in memory
    needs, since the upstream never reads what that compaction summarised. The items
    were opened once already (as input or context) or sealed here (as output)."""
    latest = next(
        (i for i in range(len(items) - 1, -1, -1) if items[i]["type"] == "compaction"), None
    )
    if latest is None:
        return list(items)
    keep = items[latest].get(OPENED_KEEP)
    if keep is None:
        keep = _opened(items[latest], sealer, owner, "previous_response_id")[OPENED_KEEP]
    return list(items[max(0, latest - keep) :])


def split_kept(view: Sequence[Item]) -> tuple[list[Item], list[Item]]:
    """(to summarise, to keep verbatim): the latest user message and what follows it
    stay; a history with no user message keeps nothing."""
    for index in range(len(view) - 1, -1, -1):
        item = view[index]
        if item["type"] == "message" and item.get("role") == "user":
            return list(view[:index]), list(view[index:])
    return list(view), []


def transcript_messages(
    model: ResolvedModel, items: Sequence[Item], instructions: str | None, cap: int
) -> list[ChatMessage]:
    """The summarising call's messages: the conversation as one transcript, its oldest
    lines left out until it fits the model's window with room for the summary."""
    lines = [_line(message) for message in to_chat_messages(items, instructions, ITEM_KINDS)]
    lines = [line for line in lines if line]
    budget = model.info.context.window - cap
    while True:
        messages: list[ChatMessage] = [
            {"role": "system", "content": SUMMARY_INSTRUCTIONS},
            {"role": "user", "content": "Conversation:\n\n" + "\n\n".join(lines)},
        ]
        if len(lines) <= 1 or chat_tokens(model.info.context, messages, []) <= budget:
            return messages
        lines = lines[max(1, len(lines) // 8) :]  # an eighth at a time: few recounts


def _line(message: ChatMessage) -> str:
    content = message.get("content")
    if isinstance(content, list):
        content = "\n".join(
            str(part.get("text") or "") for part in content if isinstance(part, dict)
        )
    text = str(content or "")
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        text += f"\n[called {function.get('name')} with {function.get('arguments')}]"
    return f"{message['role']}: {text.strip()}" if text.strip() else ""


def summary_cap(model: ResolvedModel) -> int:
    """Tokens the summary may take: a quarter of the window, at most 4096."""
    return max(16, min(model.info.context.window // 4, 4096))


async def summarise(model: ResolvedModel, messages: list[ChatMessage], cap: int) -> Summary:
    """One upstream call; its text is the summary (none at all is an ``UpstreamError``)."""
    body = {
        "model": model.upstream_id,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_completion_tokens": cap,
    }
    chunks: ChunkStream = model.provider.stream_chat_completion(body)
    text: list[str] = []
    usage: Usage | None = None
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            if chunk.get("usage"):
                usage = usage_from_chat(chunk["usage"])
            for choice in chunk.get("choices") or ():
                content = (choice.get("delta") or {}).get("content")
                if content:
                    text.append(content)
    summary = "".join(text).strip()
    if not summary:
        # A compaction stands for everything it summarises: an empty one would drop
        # the conversation without a word, so the call fails instead.
        raise UpstreamError(
            f"The model '{model.upstream_id}' answered the summary call with no text.",
            kind="protocol",
        )
    return Summary(summary, usage)


async def sealed_summary(
    model: ResolvedModel,
    items: Sequence[Item],
    instructions: str | None,
    *,
    keep: int,
    sealer: Sealer,
    owner: str,
    ids: IdSource,
) -> tuple[CompactionItem, Summary]:
    """``items`` summarised by one model call and sealed into a new ``compaction`` item
    that keeps the ``keep`` items before it (both ways of compacting end here)."""
    cap = summary_cap(model)
    summary = await summarise(model, transcript_messages(model, items, instructions, cap), cap)
    return new_compaction(seal(sealer, owner, summary.text, keep), ids), summary
