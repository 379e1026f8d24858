"""The ``compaction`` item: a conversation so far, summarised and sealed.

The client keeps it opaque (``encrypted_content``) and sends it back on later turns;
the engine opens it (``responses/compaction.py``) into a copy that carries the summary
under ``OPENED_SUMMARY``, and only that copy becomes a chat message. A compaction item
that was never opened (one in a response's own output) becomes nothing upstream: the
turn that made it already reads its summary.
"""

from __future__ import annotations

from typing import ClassVar, Literal, NotRequired, TypedDict

from pydantic import Field

from relaystack.ids import IdSource
from relaystack.items.kind import ChatMessage, Item, stored_form
from relaystack.strict import StrictModel

# Keys only an opened copy has (never stored, never sent to a client).
OPENED_SUMMARY = "_summary"
OPENED_KEEP = "_keep"

SUMMARY_HEADING = "Summary of the earlier conversation:\n"


class CompactionInput(StrictModel):
    type: Literal["compaction"]
    id: str | None = None
    encrypted_content: str = Field(max_length=10 * 1024 * 1024)
    created_by: str | None = None


class CompactionItem(TypedDict):
    id: str
    type: Literal["compaction"]
    encrypted_content: str
    created_by: NotRequired[str]


def new_compaction(encrypted_content: str, ids: IdSource) -> CompactionItem:
    return {"id": ids("cmp"), "type": "compaction", "encrypted_content": encrypted_content}


class CompactionKind:
    item_type: ClassVar[str] = "compaction"
    input_model: ClassVar[type[StrictModel]] = CompactionInput

    def normalize(self, raw: CompactionInput, ids: IdSource) -> Item:
        return stored_form(raw, "cmp", ids)

    def to_chat(self, item: Item, messages: list[ChatMessage]) -> None:
        summary = item.get(OPENED_SUMMARY)
        if summary:
            # As a system message: every chat server knows the role (developer items
            # go up the same way), and the summary is context, not something the user said.
            messages.append({"role": "system", "content": SUMMARY_HEADING + summary})


COMPACTION = CompactionKind()
