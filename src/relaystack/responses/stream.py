"""Chat-completion chunks in, Responses events out: the heart of a turn.

One output item is open at a time, in the order the model produces them (reasoning,
then text, then tool calls, usually), so every item gets the canonical
added / delta... / done bracket. The same machine serves streaming and
non-streaming requests: the latter simply keep the final snapshot.
"""

from __future__ import annotations

from typing import Any

from relaystack.errors import ApiError
from relaystack.ids import Clock, IdSource
from relaystack.responses.events import Event, EventSequence
from relaystack.responses.resource import usage_from_chat

_INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}


class _OpenItem:
    """An output item being streamed, with the part it is filling (if any)."""

    def __init__(self, item: dict[str, Any], output_index: int, key: Any = None) -> None:
        self.item = item
        self.output_index = output_index
        self.key = key  # the tool-call index for function calls
        self.part_kind: str | None = None  # "output_text", "refusal" or "reasoning_text"
        self.text: list[str] = []


class TurnStream:
    def __init__(self, response: dict[str, Any], ids: IdSource, clock: Clock) -> None:
        self.response = response
        self._ids = ids
        self._clock = clock
        self._seq = EventSequence()
        self._open: _OpenItem | None = None
        self._finish_reason: str | None = None

    # ----- lifecycle -------------------------------------------------------------

    def start(self) -> list[Event]:
        return [
            self._seq.response_event("response.created", self.response),
            self._seq.response_event("response.in_progress", self.response),
        ]

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        events: list[Event] = []
        usage = chunk.get("usage")
        if usage:
            self.response["usage"] = usage_from_chat(usage)
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue  # n > 1 is never requested
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning:
                self._text_delta(events, "reasoning", "reasoning_text", reasoning)
            if delta.get("content"):
                self._text_delta(events, "message", "output_text", delta["content"])
            if delta.get("refusal"):
                self._text_delta(events, "message", "refusal", delta["refusal"])
            for call in delta.get("tool_calls") or ():
                self._tool_call_delta(events, call)
            if choice.get("finish_reason"):
                self._finish_reason = choice["finish_reason"]
        return events

    @property
    def finished(self) -> bool:
        """Whether the upstream said why it stopped (a stream cut short never does)."""
        return self._finish_reason is not None

    def finish(self) -> list[Event]:
        reason = _INCOMPLETE_REASONS.get(self._finish_reason or "")
        item_status = "incomplete" if reason else "completed"
        events = self._close(item_status)
        self.response["completed_at"] = self._clock.seconds()
        if reason:
            self.response["status"] = "incomplete"
            self.response["incomplete_details"] = {"reason": reason}
            events.append(self._seq.response_event("response.incomplete", self.response))
        else:
            self.response["status"] = "completed"
            events.append(self._seq.response_event("response.completed", self.response))
        return events

    def fail(self, error: ApiError) -> list[Event]:
        events = self._close("incomplete")
        self.response["status"] = "failed"
        self.response["error"] = {"code": error.code or "server_error", "message": error.message}
        events.append(self._seq.response_event("response.failed", self.response))
        return events

    def cancel(self) -> None:
        """The client left: keep what was generated, in items marked incomplete."""
        self._close("incomplete")  # events nobody will read; the state is what counts
        self.response["status"] = "cancelled"

    def refail(self, events: list[Event], error: ApiError) -> list[Event]:
        """Turn an unsent ending (``events`` from ``finish``) into a failure: the item
        events stand, the terminal event becomes ``response.failed`` with its number."""
        terminal = events[-1]
        self.response["status"] = "failed"
        self.response["completed_at"] = None
        self.response["incomplete_details"] = None
        self.response["error"] = {"code": error.code or "server_error", "message": error.message}
        snapshot = dict(self.response, output=list(self.response["output"]))
        failed = {
            "type": "response.failed",
            "sequence_number": terminal["sequence_number"],
            "response": snapshot,
        }
        return [*events[:-1], failed]

    # ----- items -----------------------------------------------------------------

    def _text_delta(self, events: list[Event], item_type: str, part_kind: str, text: str) -> None:
        current = self._open
        if current is None or current.item["type"] != item_type:
            self._close_into(events, "completed")
            current = self._open_item(events, self._new_item(item_type))
        if current.part_kind != part_kind:
            self._close_part(events, current)
            self._open_part(events, current, part_kind)
        current.text.append(text)
        events.append(
            self._seq.event(
                _DELTA_EVENT[part_kind],
                item_id=current.item["id"],
                output_index=current.output_index,
                content_index=len(current.item["content"]) - 1,
                delta=text,
                **({"logprobs": []} if part_kind == "output_text" else {}),
            )
        )

    def _tool_call_delta(self, events: list[Event], call: dict[str, Any]) -> None:
        key = call.get("index", 0)
        function = call.get("function") or {}
        current = self._open
        if current is None or current.item["type"] != "function_call" or current.key != key:
            self._close_into(events, "completed")
            item = {
                "id": self._ids("fc"),
                "type": "function_call",
                "status": "in_progress",
                "call_id": call.get("id") or self._ids("call"),
                "name": function.get("name") or "",
                "arguments": "",
            }
            current = self._open_item(events, item, key)
        elif function.get("name") and not current.item["name"]:
            current.item["name"] = function["name"]
        arguments = function.get("arguments")
        if arguments:
            current.text.append(arguments)
            events.append(
                self._seq.event(
                    "response.function_call_arguments.delta",
                    item_id=current.item["id"],
                    output_index=current.output_index,
                    delta=arguments,
                )
            )

    def _new_item(self, item_type: str) -> dict[str, Any]:
        if item_type == "reasoning":
            return {
                "id": self._ids("rs"),
                "type": "reasoning",
                "status": "in_progress",
                "summary": [],
                "content": [],
            }
        return {
            "id": self._ids("msg"),
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }

    def _open_item(self, events: list[Event], item: dict[str, Any], key: Any = None) -> _OpenItem:
        opened = _OpenItem(item, len(self.response["output"]), key)
        self.response["output"].append(item)
        self._open = opened
        events.append(
            self._seq.event(
                "response.output_item.added",
                output_index=opened.output_index,
                item=_copy_item(item),
            )
        )
        return opened

    def _open_part(self, events: list[Event], current: _OpenItem, part_kind: str) -> None:
        current.part_kind = part_kind
        current.text = []
        current.item["content"].append(_part(part_kind, ""))
        events.append(
            self._seq.event(
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
        index = len(current.item["content"]) - 1
        part = _part(current.part_kind, text)
        current.item["content"][index] = part
        done_field = "refusal" if current.part_kind == "refusal" else "text"
        events.append(
            self._seq.event(
                _DONE_EVENT[current.part_kind],
                item_id=current.item["id"],
                output_index=current.output_index,
                content_index=index,
                **{done_field: text},
                **({"logprobs": []} if current.part_kind == "output_text" else {}),
            )
        )
        events.append(
            self._seq.event(
                "response.content_part.done",
                item_id=current.item["id"],
                output_index=current.output_index,
                content_index=index,
                part=_part(current.part_kind, text),
            )
        )
        current.part_kind = None

    def _close(self, status: str) -> list[Event]:
        events: list[Event] = []
        self._close_into(events, status)
        return events

    def _close_into(self, events: list[Event], status: str) -> None:
        current = self._open
        if current is None:
            return
        self._open = None
        item = current.item
        if item["type"] == "function_call":
            item["arguments"] = "".join(current.text)
            events.append(
                self._seq.event(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=current.output_index,
                    name=item["name"],
                    arguments=item["arguments"],
                )
            )
        else:
            self._close_part(events, current)
        item["status"] = status
        events.append(
            self._seq.event(
                "response.output_item.done",
                output_index=current.output_index,
                item=_copy_item(item),
            )
        )


_DELTA_EVENT = {
    "output_text": "response.output_text.delta",
    "refusal": "response.refusal.delta",
    "reasoning_text": "response.reasoning_text.delta",
}
_DONE_EVENT = {
    "output_text": "response.output_text.done",
    "refusal": "response.refusal.done",
    "reasoning_text": "response.reasoning_text.done",
}


def _part(kind: str, text: str) -> dict[str, Any]:
    if kind == "output_text":
        return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    if kind == "refusal":
        return {"type": "refusal", "refusal": text}
    return {"type": "reasoning_text", "text": text}


def _copy_item(item: dict[str, Any]) -> dict[str, Any]:
    copied = dict(item)
    if "content" in copied:
        copied["content"] = [dict(part) for part in copied["content"]]
    return copied
