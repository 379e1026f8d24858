"""The ``custom`` tool: the client defines it, the model writes its input as free text.

A custom tool takes one string (a patch, a query, code) rather than JSON arguments,
optionally shaped by a grammar (``format: {"type": "grammar", "syntax": "lark" |
"regex", "definition"}``). Upstream it is a chat function with one string argument,
``input``: the grammar travels in that argument's schema (a regex as JSON Schema's
``pattern``, anchored; a Lark grammar as ``x-grammar``), where an upstream that
constrains decoding can honour it (the embedded model does), and in its description,
where any model can read it.

Its calls are ``custom_tool_call`` items (streamed as
``response.custom_tool_call_input.*``, with the input decoded as it arrives) that end the
turn; the client answers with ``custom_tool_call_output`` items. Both go back upstream
as the chat function call and its ``tool`` message.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, TypedDict

from pydantic import Field

from relaystack.ids import IdSource
from relaystack.items.events import Event, EventSequence
from relaystack.items.kind import ChatMessage, Item, ItemKind, stored_form
from relaystack.items.parts import ContentPart, ContentPartInput
from relaystack.items.status import ItemStatus
from relaystack.strict import StrictModel
from relaystack.tools.custom_input import INPUT_ARGUMENT, InputDecoder, arguments_for, input_of
from relaystack.tools.function import FUNCTION_CALL_OUTPUT, append_call
from relaystack.tools.kind import ChatTool
from relaystack.tools.streamed_call import CallEvents

# ----- the tool definition and its tool_choice ---------------------------------------


class TextInputFormat(StrictModel):
    type: Literal["text"]


class GrammarInputFormat(StrictModel):
    type: Literal["grammar"]
    syntax: Literal["lark", "regex"]
    definition: str = Field(min_length=1)


INPUT_FORMAT_TYPES = ("text", "grammar")


class CustomDefinition(StrictModel):
    type: Literal["custom"]
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    description: str | None = None
    format: Annotated[TextInputFormat | GrammarInputFormat, Field(discriminator="type")] | None = (
        None
    )


class CustomChoice(StrictModel):
    type: Literal["custom"]
    name: str


# ----- its items ---------------------------------------------------------------------


class CustomToolCallInput(StrictModel):
    type: Literal["custom_tool_call"]
    id: str | None = None
    call_id: str
    name: str
    input: str
    # Not part of OpenAI's item, but clients echo what they were given: accepted, dropped.
    status: ItemStatus | None = None


class CustomToolCallOutputInput(StrictModel):
    type: Literal["custom_tool_call_output"]
    id: str | None = None
    call_id: str
    output: str | list[ContentPartInput]
    status: ItemStatus | None = None


class CustomToolCallItem(TypedDict):
    """OpenAI's shape: no ``status``."""

    id: str
    type: Literal["custom_tool_call"]
    call_id: str
    name: str
    input: str


class CustomToolCallOutputItem(TypedDict):
    id: str
    type: Literal["custom_tool_call_output"]
    call_id: str
    output: str | list[ContentPart]


_NO_STATUS = frozenset({"status"})  # OpenAI's custom tool items have none


class CustomToolCallKind:
    item_type: ClassVar[str] = "custom_tool_call"
    input_model: ClassVar[type[StrictModel]] = CustomToolCallInput

    def normalize(self, raw: CustomToolCallInput, ids: IdSource) -> Item:
        return stored_form(raw, "ctc", ids, exclude=_NO_STATUS)

    def to_chat(self, item: Item, messages: list[ChatMessage]) -> None:
        append_call(messages, item["call_id"], item["name"], arguments_for(item["input"]))


class CustomToolCallOutputKind:
    item_type: ClassVar[str] = "custom_tool_call_output"
    input_model: ClassVar[type[StrictModel]] = CustomToolCallOutputInput

    def normalize(self, raw: CustomToolCallOutputInput, ids: IdSource) -> Item:
        return stored_form(raw, "ctco", ids, exclude=_NO_STATUS)

    def to_chat(self, item: Item, messages: list[ChatMessage]) -> None:
        # The same ``tool`` message a function's output becomes.
        FUNCTION_CALL_OUTPUT.to_chat(item, messages)


CUSTOM_TOOL_CALL = CustomToolCallKind()
CUSTOM_TOOL_CALL_OUTPUT = CustomToolCallOutputKind()


# ----- the tool ----------------------------------------------------------------------

_EVENTS = CallEvents("response.custom_tool_call_input")


def input_schema(definition: CustomDefinition) -> dict[str, Any]:
    """The schema of the one string argument, with the grammar where there is one."""
    schema: dict[str, Any] = {"type": "string"}
    fmt = definition.format
    if isinstance(fmt, GrammarInputFormat):
        schema["description"] = (
            f"The tool's input, as raw text (not JSON) matching this {fmt.syntax} "
            f"grammar:\n{fmt.definition}"
        )
        if fmt.syntax == "regex":
            schema["pattern"] = f"^(?:{fmt.definition})$"  # JSON Schema's are unanchored
        else:
            schema["x-grammar"] = {"syntax": fmt.syntax, "definition": fmt.definition}
    else:
        schema["description"] = "The tool's input, as raw text."
    return schema


class CustomTool:
    tool_type: ClassVar[str] = "custom"
    definition_model: ClassVar[type[StrictModel]] = CustomDefinition
    choice_model: ClassVar[type[StrictModel] | None] = CustomChoice
    item_kinds: ClassVar[tuple[ItemKind, ...]] = (CUSTOM_TOOL_CALL, CUSTOM_TOOL_CALL_OUTPUT)
    runs_on_server: ClassVar[bool] = False

    def __init__(self) -> None:
        # The decoder of each call being streamed, by item id (ids are unique; every
        # opened call is closed, also when its response fails or is cancelled).
        self._decoders: dict[str, InputDecoder] = {}

    def chat_names(self, definition: CustomDefinition) -> list[str]:
        return [definition.name]

    def offer(self, definition: CustomDefinition) -> list[ChatTool]:
        function: dict[str, Any] = {"name": definition.name}
        if definition.description is not None:
            function["description"] = definition.description
        function["parameters"] = {
            "type": "object",
            "properties": {INPUT_ARGUMENT: input_schema(definition)},
            "required": [INPUT_ARGUMENT],
            "additionalProperties": False,
        }
        return [{"type": "function", "function": function}]

    def chosen_names(self, choice: CustomChoice) -> list[str]:
        return [choice.name]

    def open_call(self, call_id: str, name: str, ids: IdSource) -> Item:
        item: CustomToolCallItem = {
            "id": ids("ctc"),
            "type": "custom_tool_call",
            "call_id": call_id,
            "name": name,
            "input": "",
        }
        self._decoders[item["id"]] = InputDecoder()
        return dict(item)

    def arguments_delta(
        self, seq: EventSequence, item: Item, output_index: int, delta: str
    ) -> Event | None:
        decoder = self._decoders.get(item["id"])
        text = decoder.feed(delta) if decoder is not None else ""
        return _EVENTS.delta(seq, item, output_index, text) if text else None

    def close_call(
        self, seq: EventSequence, item: Item, output_index: int, arguments: str
    ) -> list[Event]:
        self._decoders.pop(item["id"], None)
        item["input"] = input_of(arguments)
        return _EVENTS.done(seq, item, output_index, input=item["input"])


CUSTOM = CustomTool()
