"""The ``POST /v1/responses`` request, validated as OpenAI documents it.

Unknown parameters are rejected (``extra="forbid"``) so a typo is a 400 naming the
parameter instead of a silently ignored option.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)


class _Strict(BaseModel):
    # strict: "true" is not a boolean and "0.5" is not a number, as with OpenAI.
    model_config = ConfigDict(extra="forbid", strict=True)


def check_metadata(value: dict[str, str] | None) -> dict[str, str] | None:
    # OpenAI's documented limits: 16 pairs, keys up to 64 and values up to 512 chars.
    if value is None:
        return value
    if len(value) > 16:
        raise ValueError("metadata can hold at most 16 key-value pairs")
    for key, item in value.items():
        if len(key) > 64:
            raise ValueError(f"metadata key {key[:20]!r}... is longer than 64 characters")
        if len(item) > 512:
            raise ValueError(f"metadata value for {key!r} is longer than 512 characters")
    return value


# ----- content parts -------------------------------------------------------------


class InputText(_Strict):
    type: Literal["input_text"]
    text: str


class InputImage(_Strict):
    type: Literal["input_image"]
    image_url: str | None = None
    file_id: str | None = None
    detail: Literal["low", "high", "auto"] = "auto"

    @model_validator(mode="after")
    def _has_a_source(self) -> InputImage:
        if self.image_url is None:
            # There is no Files API here yet, so a file_id cannot be resolved.
            raise ValueError("an input_image needs an image_url (a URL or a data URL)")
        return self


class InputFile(_Strict):
    type: Literal["input_file"]
    file_id: str | None = None
    file_data: str | None = None
    file_url: str | None = None
    filename: str | None = None

    @model_validator(mode="after")
    def _has_a_source(self) -> InputFile:
        # Chat-completions upstreams take a file's bytes only: there is no Files API
        # here to resolve a file_id, and no upstream field for a file_url.
        if self.file_data is None:
            raise ValueError(
                "an input_file needs file_data (file_id and file_url are not supported)"
            )
        return self


class OutputText(_Strict):
    type: Literal["output_text"]
    text: str
    annotations: list[dict[str, Any]] = Field(default_factory=list)
    logprobs: list[dict[str, Any]] | None = None


class Refusal(_Strict):
    type: Literal["refusal"]
    refusal: str


ContentPart = Annotated[
    InputText | InputImage | InputFile | OutputText | Refusal, Field(discriminator="type")
]


# ----- input items ---------------------------------------------------------------


class MessageItem(_Strict):
    type: Literal["message"] = "message"
    id: str | None = None
    role: Literal["user", "system", "developer", "assistant"]
    content: str | list[ContentPart]
    status: Literal["in_progress", "completed", "incomplete"] | None = None
    phase: Literal["commentary", "final_answer"] | None = None


class FunctionCallItem(_Strict):
    type: Literal["function_call"]
    id: str | None = None
    call_id: str
    name: str
    arguments: str
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class FunctionCallOutputItem(_Strict):
    type: Literal["function_call_output"]
    id: str | None = None
    call_id: str
    output: str | list[ContentPart]
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class SummaryText(_Strict):
    type: Literal["summary_text"]
    text: str


class ReasoningText(_Strict):
    type: Literal["reasoning_text"]
    text: str


class ReasoningItem(_Strict):
    type: Literal["reasoning"]
    id: str | None = None
    summary: list[SummaryText] = Field(default_factory=list)
    content: list[ReasoningText] | None = None
    encrypted_content: str | None = None
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class ItemReference(_Strict):
    """An item stored earlier (by any response or conversation), named by its id."""

    type: Literal["item_reference"]
    id: str


def _item_kind(value: Any) -> str | None:
    # A message may omit ``type`` (OpenAI's "easy input message").
    if isinstance(value, dict):
        return value.get("type", "message")
    return getattr(value, "type", None)


InputItem = Annotated[
    Annotated[MessageItem, Tag("message")]
    | Annotated[FunctionCallItem, Tag("function_call")]
    | Annotated[FunctionCallOutputItem, Tag("function_call_output")]
    | Annotated[ReasoningItem, Tag("reasoning")]
    | Annotated[ItemReference, Tag("item_reference")],
    Discriminator(_item_kind),
]


# ----- tools and formats ---------------------------------------------------------


class FunctionTool(_Strict):
    type: Literal["function"]
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


def _tool_kind(value: Any) -> str | None:
    return value.get("type") if isinstance(value, dict) else getattr(value, "type", None)


Tool = Annotated[Annotated[FunctionTool, Tag("function")], Discriminator(_tool_kind)]


class NamedFunction(_Strict):
    type: Literal["function"]
    name: str


class AllowedTools(_Strict):
    type: Literal["allowed_tools"]
    mode: Literal["auto", "required"]
    tools: list[NamedFunction] = Field(min_length=1)


ToolChoice = (
    Literal["auto", "none", "required"]
    | Annotated[NamedFunction | AllowedTools, Field(discriminator="type")]
)


class TextFormatText(_Strict):
    type: Literal["text"]


class TextFormatJsonObject(_Strict):
    type: Literal["json_object"]


class TextFormatJsonSchema(_Strict):
    type: Literal["json_schema"]
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    schema_: dict[str, Any] = Field(alias="schema")
    description: str | None = None
    strict: bool | None = None

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class TextOptions(_Strict):
    format: (
        Annotated[
            TextFormatText | TextFormatJsonObject | TextFormatJsonSchema,
            Field(discriminator="type"),
        ]
        | None
    ) = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ReasoningOptions(_Strict):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None
    generate_summary: Literal["auto", "concise", "detailed"] | None = None


class StreamOptions(_Strict):
    include_obfuscation: bool | None = None


class ConversationRef(_Strict):
    id: str


IncludeValue = Literal[
    "message.output_text.logprobs",
    "reasoning.encrypted_content",
    "message.input_image.image_url",
    "file_search_call.results",
    "web_search_call.action.sources",
    "web_search_call.results",
    "code_interpreter_call.outputs",
    "computer_call_output.output.image_url",
]


class CreateResponseRequest(_Strict):
    model: str = Field(min_length=1)
    input: str | list[InputItem] | None = None
    instructions: str | None = None
    previous_response_id: str | None = None
    conversation: str | ConversationRef | None = None
    store: bool | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    metadata: dict[str, str] | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    # OpenAI refuses fewer than 16 ("integer below minimum value"); so do we.
    max_output_tokens: int | None = Field(None, ge=16)
    parallel_tool_calls: bool | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    text: TextOptions | None = None
    reasoning: ReasoningOptions | None = None
    truncation: Literal["auto", "disabled"] | None = None
    include: list[IncludeValue] | None = None
    user: str | None = None
    safety_identifier: str | None = Field(None, max_length=64)
    prompt_cache_key: str | None = None
    service_tier: Literal["auto", "default", "flex", "priority"] | None = None
    background: bool | None = None
    max_tool_calls: int | None = Field(None, ge=1)
    top_logprobs: int | None = Field(None, ge=0, le=20)

    _metadata_limits = field_validator("metadata")(check_metadata)

    @field_validator("tools")
    @classmethod
    def _unique_tool_names(cls, tools: list[FunctionTool] | None) -> list[FunctionTool] | None:
        names = [tool.name for tool in tools or []]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"tool names must be unique, but '{name}' is used twice")
        return tools

    @property
    def conversation_id(self) -> str | None:
        if isinstance(self.conversation, ConversationRef):
            return self.conversation.id
        return self.conversation
