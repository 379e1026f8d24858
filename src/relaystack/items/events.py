"""Response stream events: their typed shapes, built and numbered here, framed elsewhere.

``sequence_number`` starts at 0 and rises by one per event with no gaps, whatever path
(text, tool calls, failure) the turn takes. Every event is built by one method of
``EventSequence`` whose keyword parameters are the event's fields, so a misspelt field
or event type fails the type check (``make lint``) and the spec-validating tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypedDict

from relaystack.items.kind import Item

ResponseEventType = Literal[
    "response.created",
    "response.queued",  # a background response, waiting for a worker
    "response.in_progress",
    "response.completed",
    "response.incomplete",
    "response.failed",
]
TextDeltaType = Literal[
    "response.output_text.delta", "response.refusal.delta", "response.reasoning_text.delta"
]
TextDoneType = Literal[
    "response.output_text.done", "response.refusal.done", "response.reasoning_text.done"
]


class ResponseEvent(TypedDict):
    type: ResponseEventType
    sequence_number: int
    response: dict[str, Any]


class OutputItemEvent(TypedDict):
    type: Literal["response.output_item.added", "response.output_item.done"]
    sequence_number: int
    output_index: int
    item: Item


class ContentPartEvent(TypedDict):
    type: Literal["response.content_part.added", "response.content_part.done"]
    sequence_number: int
    response_id: str
    item_id: str
    output_index: int
    content_index: int
    part: dict[str, Any]


class TextDeltaEvent(TypedDict):
    type: TextDeltaType
    sequence_number: int
    response_id: NotRequired[str]  # on output_text events
    item_id: str
    output_index: int
    content_index: int
    delta: str
    logprobs: NotRequired[list[dict[str, Any]]]


class TextDoneEvent(TypedDict):
    type: TextDoneType
    sequence_number: int
    response_id: NotRequired[str]  # on output_text events
    item_id: str
    output_index: int
    content_index: int
    text: NotRequired[str]
    refusal: NotRequired[str]
    logprobs: NotRequired[list[dict[str, Any]]]


class SummaryPartEvent(TypedDict):
    type: Literal["response.reasoning_summary_part.added", "response.reasoning_summary_part.done"]
    sequence_number: int
    item_id: str
    output_index: int
    summary_index: int
    part: dict[str, Any]


class SummaryTextEvent(TypedDict):
    type: Literal["response.reasoning_summary_text.delta", "response.reasoning_summary_text.done"]
    sequence_number: int
    item_id: str
    output_index: int
    summary_index: int
    delta: NotRequired[str]
    text: NotRequired[str]


class ToolCallEvent(TypedDict):
    """The events a tool's items go through (``response.function_call_arguments.delta``,
    ``response.mcp_call.in_progress`` ...): each tool module names its own types."""

    type: str
    sequence_number: int
    item_id: str
    output_index: int
    delta: NotRequired[str]
    arguments: NotRequired[str]
    name: NotRequired[str]
    input: NotRequired[str]  # a custom tool's


Event = (
    ResponseEvent
    | OutputItemEvent
    | ContentPartEvent
    | TextDeltaEvent
    | TextDoneEvent
    | SummaryPartEvent
    | SummaryTextEvent
) | ToolCallEvent


class EventSequence:
    """``response_id`` goes on content-part and output-text events too: the reference
    system (OGX) sends it there and its clients read it; the spec allows extra fields."""

    def __init__(self, response_id: str = "") -> None:
        self._next = 0
        self.response_id = response_id

    def _number(self) -> int:
        number = self._next
        self._next += 1
        return number

    def response(self, type: ResponseEventType, response: Mapping[str, Any]) -> ResponseEvent:
        return {"type": type, "sequence_number": self._number(), "response": snapshot(response)}

    def output_item(
        self,
        type: Literal["response.output_item.added", "response.output_item.done"],
        *,
        output_index: int,
        item: Item,
    ) -> OutputItemEvent:
        return {
            "type": type,
            "sequence_number": self._number(),
            "output_index": output_index,
            "item": copy_item(item),
        }

    def content_part(
        self,
        type: Literal["response.content_part.added", "response.content_part.done"],
        *,
        item_id: str,
        output_index: int,
        content_index: int,
        part: dict[str, Any],
    ) -> ContentPartEvent:
        return {
            "type": type,
            "sequence_number": self._number(),
            "response_id": self.response_id,
            "item_id": item_id,
            "output_index": output_index,
            "content_index": content_index,
            "part": part,
        }

    def text_delta(
        self,
        type: TextDeltaType,
        *,
        item_id: str,
        output_index: int,
        content_index: int,
        delta: str,
        logprobs: list[dict[str, Any]] | None = None,
    ) -> TextDeltaEvent:
        event: TextDeltaEvent = {
            "type": type,
            "sequence_number": self._number(),
            "item_id": item_id,
            "output_index": output_index,
            "content_index": content_index,
            "delta": delta,
        }
        if type == "response.output_text.delta":
            event["response_id"] = self.response_id
            event["logprobs"] = logprobs or []
        return event

    def text_done(
        self,
        type: TextDoneType,
        *,
        item_id: str,
        output_index: int,
        content_index: int,
        text: str,
        logprobs: list[dict[str, Any]] | None = None,
    ) -> TextDoneEvent:
        event: TextDoneEvent = {
            "type": type,
            "sequence_number": self._number(),
            "item_id": item_id,
            "output_index": output_index,
            "content_index": content_index,
        }
        if type == "response.refusal.done":
            event["refusal"] = text
        else:
            event["text"] = text
        if type == "response.output_text.done":
            event["response_id"] = self.response_id
            event["logprobs"] = logprobs or []
        return event

    def summary_part(
        self,
        type: Literal[
            "response.reasoning_summary_part.added", "response.reasoning_summary_part.done"
        ],
        *,
        item_id: str,
        output_index: int,
        summary_index: int,
        part: dict[str, Any],
    ) -> SummaryPartEvent:
        return {
            "type": type,
            "sequence_number": self._number(),
            "item_id": item_id,
            "output_index": output_index,
            "summary_index": summary_index,
            "part": part,
        }

    def summary_text(
        self,
        type: Literal[
            "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done"
        ],
        *,
        item_id: str,
        output_index: int,
        summary_index: int,
        delta: str | None = None,
        text: str | None = None,
    ) -> SummaryTextEvent:
        event: SummaryTextEvent = {
            "type": type,
            "sequence_number": self._number(),
            "item_id": item_id,
            "output_index": output_index,
            "summary_index": summary_index,
        }
        if delta is not None:
            event["delta"] = delta
        if text is not None:
            event["text"] = text
        return event

    def tool_call(
        self,
        type: str,
        *,
        item_id: str,
        output_index: int,
        delta: str | None = None,
        arguments: str | None = None,
        name: str | None = None,
        input: str | None = None,
    ) -> ToolCallEvent:
        event: ToolCallEvent = {
            "type": type,
            "sequence_number": self._number(),
            "item_id": item_id,
            "output_index": output_index,
        }
        if name is not None:
            event["name"] = name
        if delta is not None:
            event["delta"] = delta
        if arguments is not None:
            event["arguments"] = arguments
        if input is not None:
            event["input"] = input
        return event


def replace_terminal(
    events: list[Event], type: ResponseEventType, response: Mapping[str, Any]
) -> list[Event]:
    """``events`` (an unsent ending) with its last event, the terminal one, swapped for
    another of the same number: the sequence keeps no gap."""
    terminal = events[-1]
    replaced: ResponseEvent = {
        "type": type,
        "sequence_number": terminal["sequence_number"],
        "response": snapshot(response),
    }
    return [*events[:-1], replaced]


def snapshot(response: Mapping[str, Any]) -> dict[str, Any]:
    # The live response keeps changing after the event is emitted.
    copied = dict(response)
    copied["output"] = list(response["output"])
    return copied


def copy_item(item: Item) -> Item:
    copied = dict(item)
    if "content" in copied:
        copied["content"] = [dict(part) for part in copied["content"]]
    return copied
