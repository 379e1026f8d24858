"""``POST /v1/responses/compact``: one model call that summarises a conversation.

The answer (``response.compaction``) keeps the latest user turn's messages verbatim and
adds one ``compaction`` item; sent back as input (or chained after), it stands for
everything it summarised. Nothing is stored: the client holds the result.
"""

from __future__ import annotations

from typing import Any

from relaystack.catalog import ITEM_KINDS
from relaystack.errors import InvalidRequest
from relaystack.ids import Clock, IdSource
from relaystack.inference.registry import ResolvedModel
from relaystack.items.convert import normalize_items
from relaystack.items.kind import Item
from relaystack.items.message import user_text
from relaystack.responses import compaction
from relaystack.responses.compact_request import CompactRequest
from relaystack.responses.context_plan import open_history
from relaystack.sealing import Sealer

_NO_USAGE = {
    "input_tokens": 0,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 0,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 0,
}


def compact_input(request: CompactRequest, ids: IdSource) -> list[Item]:
    if request.input is None:
        return []
    if isinstance(request.input, str):
        return [dict(user_text(request.input, ids))]
    return normalize_items(request.input, ITEM_KINDS, ids)


async def compact_conversation(
    request: CompactRequest,
    model: ResolvedModel,
    context: list[Item],
    input_items: list[Item],
    *,
    sealer: Sealer,
    owner: str,
    ids: IdSource,
    clock: Clock,
) -> dict[str, Any]:
    history = open_history(context, "previous_response_id", input_items, sealer, owner)
    view = compaction.compacted_view(history)
    if not view:
        raise InvalidRequest(
            "There is nothing to compact: give 'input' or 'previous_response_id'.",
            param="input",
            code="missing_required_parameter",
        )
    _, tail = compaction.split_kept(view)
    kept = [item for item in tail if item["type"] == "message" and item.get("role") == "user"]
    summarised = [item for item in view if not any(item is k for k in kept)]
    item, summary = await compaction.sealed_summary(
        model, summarised, request.instructions, keep=len(kept), sealer=sealer, owner=owner, ids=ids
    )
    return {
        "id": ids("resp"),
        "object": "response.compaction",
        "created_at": clock.seconds(),
        "output": [*kept, dict(item)],
        "usage": summary.usage or dict(_NO_USAGE),
    }
