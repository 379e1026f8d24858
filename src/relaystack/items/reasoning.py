"""The ``reasoning`` item: a model's thinking, kept server-side.

Chat-completions has no standard field to send reasoning back upstream, so a
reasoning item becomes no chat message.
"""

from __future__ import annotations

from typing import ClassVar, Literal, NotRequired, TypedDict

from pydantic import Field

from relaystack.ids import IdSource
from relaystack.items.kind import ChatMessage, Item, stored_form
from relaystack.items.status import ItemStatus
from relaystack.strict import StrictModel


class SummaryTextInput(StrictModel):
    type: Literal["summary_text"]
    text: str


class ReasoningTextInput(StrictModel):
    type: Literal["reasoning_text"]
    text: str


class ReasoningInput(StrictModel):
    type: Literal["reasoning"]
    id: str | None = None
    summary: list[SummaryTextInput] = Field(default_factory=list)
    content: list[ReasoningTextInput] | None = None
    encrypted_content: str | None = None
    status: ItemStatus | None = None


class SummaryTextPart(TypedDict):
    type: Literal["summary_text"]
    text: str


class ReasoningTextPart(TypedDict):
    type: Literal["reasoning_text"]
    text: str


class ReasoningItem(TypedDict):
    id: str
    type: Literal["reasoning"]
    status: ItemStatus
    summary: list[SummaryTextPart]
    content: NotRequired[list[ReasoningTextPart]]
    encrypted_content: NotRequired[str]


PART_TYPES = ("summary_text", "reasoning_text")


def new_reasoning(ids: IdSource) -> ReasoningItem:
    return {
        "id": ids("rs"),
        "type": "reasoning",
        "status": "in_progress",
        "summary": [],
        "content": [],
    }


class ReasoningKind:
    item_type: ClassVar[str] = "reasoning"
    input_model: ClassVar[type[StrictModel]] = ReasoningInput

    def normalize(self, raw: ReasoningInput, ids: IdSource) -> Item:
        item = stored_form(raw, "rs", ids)
        item.setdefault("status", "completed")
        return item

    def to_chat(self, item: Item, messages: list[ChatMessage]) -> None:
        return None


REASONING = ReasoningKind()
