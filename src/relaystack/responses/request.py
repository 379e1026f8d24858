"""The ``POST /v1/responses`` request, validated as OpenAI documents it.

Unknown parameters are rejected (``extra="forbid"``) so a typo is a 400 naming the
parameter instead of a silently ignored option. Input items and tools come from
``relaystack.catalog``: their models live with their kinds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator

from relaystack.catalog import (
    CHOICE_MODELS,
    InputItem,
    ToolChoiceForm,
    ToolDefinition,
    offered_names,
    tagged_union,
)
from relaystack.errors import InvalidRequest
from relaystack.responses.prompt_templates import PromptRef
from relaystack.strict import StrictModel, check_metadata


class AllowedTools(StrictModel):
    type: Literal["allowed_tools"]
    mode: Literal["auto", "required"]
    tools: list[ToolChoiceForm] = Field(min_length=1)


if TYPE_CHECKING:
    ToolChoice = Literal["auto", "none", "required"] | Any
else:
    ToolChoice = Literal["auto", "none", "required"] | tagged_union(
        [*CHOICE_MODELS, ("allowed_tools", AllowedTools)]
    )


class TextFormatText(StrictModel):
    type: Literal["text"]


class TextFormatJsonObject(StrictModel):
    type: Literal["json_object"]


class TextFormatJsonSchema(StrictModel):
    type: Literal["json_schema"]
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    schema_: dict[str, Any] = Field(alias="schema")
    description: str | None = None
    strict: bool | None = None

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


TEXT_FORMAT_TYPES = ("text", "json_object", "json_schema")


class TextOptions(StrictModel):
    format: (
        Annotated[
            TextFormatText | TextFormatJsonObject | TextFormatJsonSchema,
            Field(discriminator="type"),
        ]
        | None
    ) = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ReasoningOptions(StrictModel):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None
    generate_summary: Literal["auto", "concise", "detailed"] | None = None


class StreamOptions(StrictModel):
    include_obfuscation: bool | None = None


class ConversationRef(StrictModel):
    id: str


class ContextManagementEntry(StrictModel):
    type: Literal["compaction"]
    compact_threshold: int | None = Field(None, ge=1)


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


class CreateResponseRequest(StrictModel):
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
    tools: list[ToolDefinition] | None = None
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
    context_management: list[ContextManagementEntry] | None = None
    prompt: PromptRef | None = None

    _metadata_limits = field_validator("metadata")(check_metadata)

    @field_validator("tools")
    @classmethod
    def _unique_tool_names(cls, tools: list[Any] | None) -> list[Any] | None:
        first: dict[str, int] = {}
        for index, tool in enumerate(tools or []):
            for name in offered_names([tool]):
                if name in first:
                    # Raised as is (pydantic passes on what is not a ValueError), so the
                    # error names the definition: web_search and web_search_preview
                    # together land here too (one search tool under two names).
                    raise InvalidRequest(
                        f"Tool names must be unique, but '{name}' is offered by both "
                        f"tools[{first[name]}] and tools[{index}].",
                        param=f"tools[{index}]",
                        code="invalid_value",
                    )
                first[name] = index
        return tools

    @property
    def conversation_id(self) -> str | None:
        if isinstance(self.conversation, ConversationRef):
            return self.conversation.id
        return self.conversation
