"""Chat-completion chunks in, Responses events out: the heart of a turn.

One output item is open at a time, in the order the model produces them (reasoning,
then text, then tool calls, usually), so every item gets the canonical
added / delta... / done bracket. The same machine serves streaming and
non-streaming requests: the latter simply keep the final snapshot. A tool call is
opened and closed by the tool that offered the called name (``CallHandler``).

A response may take several model rounds (the tool loop, ``responses/loop.py``): each
round is fed with ``feed`` and closed with ``end_round``; usage sums over the rounds;
``finish`` ends the response. A call the server will run stays open after its round
(its result comes later) and is listed in ``server_calls``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from relaystack.errors import ApiError
from relaystack.ids import Clock, IdSource
from relaystack.items.events import Event, EventSequence, replace_terminal
from relaystack.items.kind import Item
from relaystack.items.message import new_message
from relaystack.items.parts import output_text, refusal
from relaystack.items.reasoning import new_reasoning
from relaystack.items.status import ItemStatus
from relaystack.responses.failure import response_error
from relaystack.responses.logprobs import from_chunk
from relaystack.responses.resource import ResponseObject, Usage, add_usage, usage_from_chat
from relaystack.tools.function import FUNCTION
from relaystack.tools.kind import CallHandler

PartKind = Literal["output_text", "refusal", "reasoning_text", "summary_text"]

_INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}

# A reasoning summary's parts live in the item's ``summary`` and have events of their own.
_SUMMARY: PartKind = "summary_text"

_DELTA_EVENT: dict[PartKind, Any] = {
    "output_text": "response.output_text.delta",
    "refusal": "response.refusal.delta",
    "reasoning_text": "response.reasoning_text.delta",
}
_DONE_EVENT: dict[PartKind, Any] = {
    "output_text": "response.output_text.done",
    "refusal": "response.refusal.done",
    "reasoning_text": "response.reasoning_text.done",
}


class _OpenItem:
    """An output item being streamed, with the part it is filling (if any)."""

    def __init__(
        self,
        item: Item,
        output_index: int,
        call_index: int | None = None,
        tool: CallHandler | None = None,
    ) -> None:
        self.item = item
        self.output_index = output_index
        self.call_index = call_index  # the chat tool-call index, for calls
        self.tool = tool  # the tool whose call this is
        self.part_kind: PartKind | None = None
        self.text: list[str] = []
        self.logprobs: list[dict[str, Any]] = []  # the open output_text's tokens
        self.name = ""  # the chat function called, for calls


@dataclass(frozen=True)
class ClosedCall:
    """A call the model made this round: its item and what it called, as chat saw it."""

    item: Item
    output_index: int
    name: str
    arguments: str


class TurnStream:
    def __init__(
        self,
        response: ResponseObject,
        ids: IdSource,
        clock: Clock,
        tools_by_name: Mapping[str, CallHandler] | None = None,
        server_runs: Callable[[Item], bool] = lambda item: False,
    ) -> None:
        self.response = response
        self._ids = ids
        self._clock = clock
        # Which tool offered each chat function name; a name the model made up is
        # answered as a function call, which the client can refuse.
        self.tools_by_name: Mapping[str, CallHandler] = tools_by_name or {}
        self._server_runs = server_runs
        # The annotations of a finished output_text (web search's url citations).
        self.annotate: Callable[[str], list[dict[str, Any]]] = lambda text: []
        # Reasoning streams as a summary when the client asked for one; a finished
        # reasoning item gets what the client keeps of it (its encrypted_content).
        self.reasoning_summary = False
        # Token logprobs are kept only when asked for (an upstream may send them anyway).
        self.keep_logprobs = False
        self.finish_reasoning: Callable[[Item], None] = lambda item: None
        self.seq = EventSequence(response["id"])
        self._open: _OpenItem | None = None
        self._finish_reason: str | None = None
        self._earlier_usage: Usage | None = None  # the rounds before this one
        # This round's closed calls, in the model's order.
        self.calls: list[ClosedCall] = []
        self.server_calls: list[ClosedCall] = []

    # ----- lifecycle -------------------------------------------------------------

    def start(self) -> list[Event]:
        return [
            self.seq.response("response.created", self.response),
            self.seq.response("response.in_progress", self.response),
        ]

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        events: list[Event] = []
        usage = chunk.get("usage")
        if usage:
            self.response["usage"] = add_usage(self._earlier_usage, usage_from_chat(usage))
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue  # n > 1 is never requested
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning:
                kind: PartKind = _SUMMARY if self.reasoning_summary else "reasoning_text"
                self._text_delta(events, "reasoning", kind, reasoning)
            if delta.get("content"):
                scored = from_chunk(choice) if self.keep_logprobs else None
                self._text_delta(events, "message", "output_text", delta["content"], scored)
            if delta.get("refusal"):
                self._text_delta(events, "message", "refusal", delta["refusal"])
            for call in delta.get("tool_calls") or ():
                self._tool_call_delta(events, call)
            if choice.get("finish_reason"):
                self._finish_reason = choice["finish_reason"]
        return events

    @property
    def finish_reason(self) -> str | None:
        """The upstream's own word for why it stopped (``stop``, ``tool_calls`` ...)."""
        return self._finish_reason

    @property
    def finished(self) -> bool:
        """Whether the upstream said why it stopped (a stream cut short never does)."""
        return self._finish_reason is not None

    def end_round(self) -> list[Event]:
        """Close what the round left open; ``calls`` and ``server_calls`` say what it
        called. The next ``feed`` starts a new round."""
        return self._close("incomplete" if self.cut_short else "completed")

    def next_round(self) -> None:
        self._earlier_usage = self.response["usage"]
        self._finish_reason = None
        self.calls = []
        self.server_calls = []

    @property
    def cut_short(self) -> bool:
        """Whether the upstream stopped the round early (length, content filter)."""
        return self._finish_reason in _INCOMPLETE_REASONS

    def count_usage(self, usage: Usage) -> None:
        """An upstream call made outside the rounds (a compaction) counts as one."""
        self._earlier_usage = add_usage(self._earlier_usage, usage)
        self.response["usage"] = self._earlier_usage

    def add_item(self, item: Item) -> tuple[int, list[Event]]:
        """A server-made item (e.g. a tool listing) joins the output, open."""
        events: list[Event] = []
        opened = self._open_item(events, item)
        self._open = None
        return opened.output_index, events

    def item_done(self, output_index: int) -> Event:
        item = self.response["output"][output_index]
        return self.seq.output_item(
            "response.output_item.done", output_index=output_index, item=item
        )

    def finish(self, incomplete_reason: str | None = None) -> list[Event]:
        reason = incomplete_reason or _INCOMPLETE_REASONS.get(self._finish_reason or "")
        events = self._close("incomplete" if reason else "completed")
        self.response["completed_at"] = self._clock.seconds()
        if reason:
            self.response["status"] = "incomplete"
            self.response["incomplete_details"] = {"reason": reason}
            events.append(self.seq.response("response.incomplete", self.response))
        else:
            self.response["status"] = "completed"
            events.append(self.seq.response("response.completed", self.response))
        return events

    def fail(self, error: ApiError) -> list[Event]:
        events = self._close("incomplete")
        self._set_failed(error)
        events.append(self.seq.response("response.failed", self.response))
        return events

    def cancel(self) -> None:
        """The client left: keep what was generated, in items marked incomplete."""
        self._close("incomplete")  # events nobody will read; the state is what counts
        self._settle_server_items()
        self.response["status"] = "cancelled"

    def _settle_server_items(self) -> None:
        # Server-run items the response ended before they ran (or finished).
        for item in self.response["output"]:
            if item.get("status") in ("in_progress", "calling", "searching"):
                item["status"] = "incomplete"

    def refail(self, events: list[Event], error: ApiError) -> list[Event]:
        """Turn an unsent ending (``events`` from ``finish``) into a failure: the item
        events stand, the terminal event becomes ``response.failed`` with its number."""
        self.response["completed_at"] = None
        self.response["incomplete_details"] = None
        self._set_failed(error)
        return replace_terminal(events, "response.failed", self.response)

    def _set_failed(self, error: ApiError) -> None:
        self._settle_server_items()
        self.response["status"] = "failed"
        self.response["error"] = response_error(error)

    # ----- items -----------------------------------------------------------------

    def _text_delta(
        self,
        events: list[Event],
        item_type: Literal["message", "reasoning"],
        part_kind: PartKind,
        text: str,
        logprobs: list[dict[str, Any]] | None = None,
    ) -> None:
        current = self._open
        if current is None or current.item["type"] != item_type:
            self._close_into(events, "completed")
            item: Item = dict(
                new_reasoning(self._ids)
                if item_type == "reasoning"
                else new_message("assistant", [], self._ids, status="in_progress")
            )
            current = self._open_item(events, item)
        if current.part_kind != part_kind:
            self._close_part(events, current)
            self._open_part(events, current, part_kind)
        current.text.append(text)
        if logprobs:
            current.logprobs.extend(logprobs)
        if part_kind == _SUMMARY:
            events.append(
                self.seq.summary_text(
                    "response.reasoning_summary_text.delta",
                    item_id=current.item["id"],
                    output_index=current.output_index,
                    summary_index=len(current.item["summary"]) - 1,
                    delta=text,
                )
            )
            return
        events.append(
            self.seq.text_delta(
                _DELTA_EVENT[part_kind],
                item_id=current.item["id"],
                output_index=current.output_index,
                content_index=len(current.item["content"]) - 1,
                delta=text,
                logprobs=logprobs,
            )
        )

    def _tool_call_delta(self, events: list[Event], call: dict[str, Any]) -> None:
        call_index = call.get("index", 0)
        function = call.get("function") or {}
        current = self._open
        if current is None or current.tool is None or current.call_index != call_index:
            self._close_into(events, "completed")
            name = function.get("name") or ""
            tool = self.tools_by_name.get(name, FUNCTION)
            item = tool.open_call(call.get("id") or self._ids("call"), name, self._ids)
            current = self._open_item(events, item, call_index, tool)
            current.name = name
        elif function.get("name") and not current.item["name"]:
            current.item["name"] = current.name = function["name"]
        arguments = function.get("arguments")
        if arguments:
            assert current.tool is not None
            current.text.append(arguments)
            event = current.tool.arguments_delta(
                self.seq, current.item, current.output_index, arguments
            )
            if event is not None:
                events.append(event)

    def _open_item(
        self,
        events: list[Event],
        item: Item,
        call_index: int | None = None,
        tool: CallHandler | None = None,
    ) -> _OpenItem:
        opened = _OpenItem(item, len(self.response["output"]), call_index, tool)
        self.response["output"].append(item)
        self._open = opened
        events.append(
            self.seq.output_item(
                "response.output_item.added", output_index=opened.output_index, item=item
            )
        )
        return opened

    def _open_part(self, events: list[Event], current: _OpenItem, part_kind: PartKind) -> None:
        current.part_kind = part_kind
        current.text = []
        current.logprobs = []
        if part_kind == _SUMMARY:
            current.item["summary"].append(_part(part_kind, ""))
            events.append(
                self.seq.summary_part(
                    "response.reasoning_summary_part.added",
                    item_id=current.item["id"],
                    output_index=current.output_index,
                    summary_index=len(current.item["summary"]) - 1,
                    part=_part(part_kind, ""),
                )
            )
            return
        current.item["content"].append(_part(part_kind, ""))
        events.append(
            self.seq.content_part(
                "response.content_part.added",
                item_id=current.item["id"],
                output_index=current.output_index,
                content_index=len(current.item["content"]) - 1,
                part=_part(part_kind, ""),
            )
        )

    def _close_part(self, events: list[Event], current: _OpenItem) -> None:
        if current.part_kind is None:
            return
        text = "".join(current.text)
        if current.part_kind == _SUMMARY:
            self._close_summary(events, current, text)
            return
        index = len(current.item["content"]) - 1
        part = _part(current.part_kind, text)
        if current.part_kind == "output_text":
            part["annotations"] = self.annotate(text)
            part["logprobs"] = list(current.logprobs)
        current.item["content"][index] = part
        fields = {
            "item_id": current.item["id"],
            "output_index": current.output_index,
            "content_index": index,
        }
        events.append(
            self.seq.text_done(
                _DONE_EVENT[current.part_kind], **fields, text=text, logprobs=current.logprobs
            )
        )
        events.append(
            self.seq.content_part("response.content_part.done", **fields, part=dict(part))
        )
        current.part_kind = None

    def _close_summary(self, events: list[Event], current: _OpenItem, text: str) -> None:
        index = len(current.item["summary"]) - 1
        part = _part(_SUMMARY, text)
        current.item["summary"][index] = part
        fields = {
            "item_id": current.item["id"],
            "output_index": current.output_index,
            "summary_index": index,
        }
        events.append(
            self.seq.summary_text("response.reasoning_summary_text.done", **fields, text=text)
        )
        events.append(
            self.seq.summary_part("response.reasoning_summary_part.done", **fields, part=dict(part))
        )
        current.part_kind = None

    def _close(self, status: ItemStatus) -> list[Event]:
        events: list[Event] = []
        self._close_into(events, status)
        return events

    def _close_into(self, events: list[Event], status: ItemStatus) -> None:
        current = self._open
        if current is None:
            return
        self._open = None
        item = current.item
        if current.tool is not None:
            events.extend(
                current.tool.close_call(self.seq, item, current.output_index, "".join(current.text))
            )
            call = ClosedCall(item, current.output_index, current.name, "".join(current.text))
            self.calls.append(call)
            if status == "completed" and self._server_runs(item):
                self.server_calls.append(call)
                return  # stays open: the server runs it, then closes it
        else:
            self._close_part(events, current)
        if "status" in item:  # some items have none (mcp_approval_request)
            item["status"] = status
        if item["type"] == "reasoning":
            self.finish_reasoning(item)
        events.append(
            self.seq.output_item(
                "response.output_item.done", output_index=current.output_index, item=item
            )
        )


def _part(kind: PartKind, text: str) -> dict[str, Any]:
    if kind == "output_text":
        return dict(output_text(text))
    if kind == "refusal":
        return dict(refusal(text))
    return {"type": kind, "text": text}  # reasoning_text, summary_text
