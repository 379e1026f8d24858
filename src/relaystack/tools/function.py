"""The ``function`` tool: the client defines it, the model calls it, the client runs it.

Its calls are ``function_call`` items (streamed as ``response.function_call_arguments.*``)
that end the turn; the client answers with ``function_call_output`` items on the next
one. Upstream, consecutive calls become one assistant message with ``tool_calls`` and
each output a ``tool`` message.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, TypedDict

from pydantic import Field

from relaystack.ids import IdSource
from relaystack.items.events import Event, EventSequence
from relaystack.items.kind import ChatMessage, Item, ItemKind, stored_form
from relaystack.items.parts import ContentPart, ContentPartInput, chat_part
from relaystack.items.status import ItemStatus
from relaystack.strict import StrictModel
from relaystack.tools.kind import ChatTool
from relaystack.tools.streamed_call import CallEvents

# ----- the tool definition and its tool_choice ---------------------------------------


class FunctionDefinition(StrictModel):
    type: Literal["function"]
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class FunctionChoice(StrictModel):
    type: Literal["function"]
    name: str


# ----- its items ---------------------------------------------------------------------


class FunctionCallInput(StrictModel):
    type: Literal["function_call"]
    id: str | None = None
    call_id: str
    name: str
    arguments: str
    status: ItemStatus | None = None


class FunctionCallOutputInput(StrictModel):
    type: Literal["function_call_output"]
    id: str | None = None
    call_id: str
    output: str | list[ContentPartInput]
    status: ItemStatus | None = None


class FunctionCallItem(TypedDict):
    id: str
    type: Literal["function_call"]
    status: ItemStatus
    call_id: str
    name: str
    arguments: str


class FunctionCallOutputItem(TypedDict):
    id: str
    type: Literal["function_call_output"]
    status: ItemStatus
    call_id: str
    output: str | list[ContentPart]


def _normalized(raw: StrictModel, prefix: str, ids: IdSource) -> Item:
    item = stored_form(raw, prefix, ids)
    item.setdefault("status", "completed")
    return item


class FunctionCallKind:
    item_type: ClassVar[str] = "function_call"
    input_model: ClassVar[type[StrictModel]] = FunctionCallInput

    def normalize(self, raw: FunctionCallInput, ids: IdSource) -> Item:
        return _normalized(raw, "fc", ids)

    def to_chat(self, item: Item, messages: list[ChatMessage]) -> None:
        append_call(messages, item["call_id"], item["name"], item["arguments"])


class FunctionCallOutputKind:
    item_type: ClassVar[str] = "function_call_output"
    input_model: ClassVar[type[StrictModel]] = FunctionCallOutputInput

    def normalize(self, raw: FunctionCallOutputInput, ids: IdSource) -> Item:
        return _normalized(raw, "fco", ids)

    def to_chat(self, item: Item, messages: list[ChatMessage]) -> None:
        messages.append(
            {"role": "tool", "tool_call_id": item["call_id"], "content": _output(item["output"])}
        )


def append_call(messages: list[ChatMessage], call_id: str, name: str, arguments: str) -> None:
    """A tool call as chat sees it: joins the assistant message before it, if any."""
    call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
    last = messages[-1] if messages else None
    if last is not None and last["role"] == "assistant" and "refusal" not in last:
        last.setdefault("tool_calls", []).append(call)
        if last.get("content") == "":
            del last["content"]  # no nulls upstream: an absent content is the same thing
        return
    messages.append({"role": "assistant", "tool_calls": [call]})


def _output(output: str | list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    if isinstance(output, str):
        return output
    parts = [chat_part(part) for part in output]
    if all(part["type"] == "text" for part in parts):
        return "".join(part["text"] for part in parts)
    return parts


FUNCTION_CALL = FunctionCallKind()
FUNCTION_CALL_OUTPUT = FunctionCallOutputKind()


# ----- the tool ----------------------------------------------------------------------

_EVENTS = CallEvents("response.function_call_arguments")


class FunctionTool:
    tool_type: ClassVar[str] = "function"
    definition_model: ClassVar[type[StrictModel]] = FunctionDefinition
    choice_model: ClassVar[type[StrictModel] | None] = FunctionChoice
    item_kinds: ClassVar[tuple[ItemKind, ...]] = (FUNCTION_CALL, FUNCTION_CALL_OUTPUT)
    runs_on_server: ClassVar[bool] = False

    def chat_names(self, definition: FunctionDefinition) -> list[str]:
        return [definition.name]

    def offer(self, definition: FunctionDefinition) -> list[ChatTool]:
        function: dict[str, Any] = {"name": definition.name}
        if definition.description is not None:
            function["description"] = definition.description
        if definition.parameters is not None:
            function["parameters"] = definition.parameters
        if definition.strict is not None:
            function["strict"] = definition.strict
        return [{"type": "function", "function": function}]

    def chosen_names(self, choice: FunctionChoice) -> list[str]:
        return [choice.name]

    def open_call(self, call_id: str, name: str, ids: IdSource) -> Item:
        item: FunctionCallItem = {
            "id": ids("fc"),
            "type": "function_call",
            "status": "in_progress",
            "call_id": call_id,
            "name": name,
            "arguments": "",
        }
        return dict(item)

    def arguments_delta(
        self, seq: EventSequence, item: Item, output_index: int, delta: str
    ) -> Event:
        return _EVENTS.delta(seq, item, output_index, delta)

    def close_call(
        self, seq: EventSequence, item: Item, output_index: int, arguments: str
    ) -> list[Event]:
        item["arguments"] = arguments
        return _EVENTS.done(seq, item, output_index, name=item["name"], arguments=arguments)


FUNCTION = FunctionTool()
