"""What a turn's first upstream call reads: compactions opened, the window respected.

``plan`` runs in ``prepare``, before anything is answered: a foreign compaction blob
or an oversize context with truncation disabled is a plain 400 there (a stream gets
``response.failed`` instead, as OpenAI's do). When ``context_management`` asks for
compaction and the context is over its threshold, the plan says so, and the turn
compacts first (``compact``), inside the response, whose output then starts with the
compaction item.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from relaystack.catalog import ITEM_KINDS
from relaystack.errors import ApiError
from relaystack.ids import IdSource
from relaystack.inference.registry import ResolvedModel
from relaystack.inference.tokens import at_most
from relaystack.items.compaction import (
    OPENED_KEEP,
    OPENED_SUMMARY,
    CompactionItem,
)
from relaystack.items.convert import to_chat_messages
from relaystack.items.kind import ChatMessage, Item
from relaystack.responses import compaction
from relaystack.responses.context_window import Fitted, chat_tokens, fit
from relaystack.responses.request import CreateResponseRequest
from relaystack.responses.resource import Usage
from relaystack.sealing import Sealer

log = logging.getLogger(__name__)

# A compaction entry without compact_threshold compacts past this share of the window.
DEFAULT_THRESHOLD_SHARE = 0.8


@dataclass
class ContextPlan:
    history: list[Item]  # the turn's history with compactions opened
    view: list[Item]  # what the upstream reads (after truncation, when planned)
    tools: list[dict[str, Any]]  # the first call's chat tools, as counted
    input_ids: set[int]  # the turn's new input (by object identity): never dropped
    response_id: str  # for the log line of what truncation dropped
    messages: list[ChatMessage] | None = None  # the view as chat messages, once fitted
    compact_first: bool = False
    failure: ApiError | None = None  # a stream's deferred 400


def open_history(
    context: Sequence[Item],
    context_param: str,
    input_items: Sequence[Item],
    sealer: Sealer,
    owner: str,
) -> list[Item]:
    def param_of(index: int) -> str:
        if index < len(context):
            return context_param
        return f"input[{index - len(context)}].encrypted_content"

    return compaction.open_items([*context, *input_items], sealer, owner, param_of)


def plan(
    request: CreateResponseRequest,
    model: ResolvedModel,
    history: list[Item],
    input_items: Sequence[Item],
    tools: list[dict[str, Any]],
    response_id: str,
) -> ContextPlan:
    view = compaction.compacted_view(history)
    planned = ContextPlan(history, view, tools, {id(item) for item in input_items}, response_id)
    threshold = compaction_threshold(request, model)
    if threshold is not None and len(view) > 1 and _over(model, view, request, tools, threshold):
        planned.compact_first = True
        return planned
    try:
        fitted = _fitted(request, model, planned, view)
        planned.view, planned.messages = fitted.items, fitted.messages
    except ApiError as error:
        if not request.stream:
            raise
        planned.failure = error
    return planned


def _over(
    model: ResolvedModel,
    view: list[Item],
    request: CreateResponseRequest,
    tools: list[dict[str, Any]],
    threshold: int,
) -> bool:
    messages = to_chat_messages(view, request.instructions, ITEM_KINDS)
    if at_most(messages, tools) <= threshold:
        return False  # far below: not worth a count
    return chat_tokens(model.info.context, messages, tools) > threshold


def compaction_threshold(request: CreateResponseRequest, model: ResolvedModel) -> int | None:
    window = model.info.context.window
    for entry in request.context_management or ():
        if entry.type == "compaction":
            share = int(window * DEFAULT_THRESHOLD_SHARE)
            return min(entry.compact_threshold or share, window)
    return None


def _fitted(
    request: CreateResponseRequest, model: ResolvedModel, planned: ContextPlan, view: list[Item]
) -> Fitted:
    fitted = fit(
        model.info.context,
        view,
        request.instructions,
        planned.tools,
        protected=lambda item: item["type"] == "compaction" or id(item) in planned.input_ids,
        truncation=request.truncation or "disabled",
        max_output_tokens=request.max_output_tokens,
    )
    if fitted.dropped:
        log.info(
            "response %s: truncation dropped the %d oldest of %d context items (%s tokens left)",
            planned.response_id,
            fitted.dropped,
            len(view),
            fitted.input_tokens,
        )
    return fitted


@dataclass(frozen=True)
class Compacted:
    item: CompactionItem
    usage: Usage | None


async def compact(
    request: CreateResponseRequest,
    model: ResolvedModel,
    planned: ContextPlan,
    sealer: Sealer,
    owner: str,
    ids: IdSource,
) -> Compacted | None:
    """Summarise the planned view but its latest user turn; the view becomes the
    summary and that turn (fitted to the window again)."""
    summarised, kept = compaction.split_kept(planned.view)
    if not _is_suffix(kept, planned.history):
        summarised, kept = planned.view, []  # the kept count must name the items before it
    if not summarised:  # only the new turn is over the threshold: nothing to summarise
        planned.view = _fitted(request, model, planned, planned.view).items
        return None
    item, summary = await compaction.sealed_summary(
        model, summarised, request.instructions, keep=len(kept), sealer=sealer, owner=owner, ids=ids
    )
    # Opened as ``compaction.open_items`` would, without unsealing what was just sealed.
    opened: Item = {**item, OPENED_SUMMARY: summary.text, OPENED_KEEP: len(kept)}
    planned.view = _fitted(request, model, planned, [opened, *kept]).items
    return Compacted(item, summary.usage)


def _is_suffix(tail: Sequence[Item], items: Sequence[Item]) -> bool:
    return len(tail) <= len(items) and all(
        a is b for a, b in zip(reversed(tail), reversed(items), strict=False)
    )
