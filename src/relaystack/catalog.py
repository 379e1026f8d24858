"""Every item kind and tool kind relaystack knows: one registration line each.

The request models' unions (``InputItem``, ``ToolDefinition``, ``ToolChoiceForm``) are
built from these lists, so a new kind is its own module plus one line here. A ``type``
no kind claims stays a 400 naming the field (``tools[0].type``, ``input[2].type``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Discriminator, Tag

from relaystack.items.compaction import COMPACTION
from relaystack.items.kind import ItemKind
from relaystack.items.message import MESSAGE
from relaystack.items.reasoning import REASONING
from relaystack.items.reference import ITEM_REFERENCE
from relaystack.tools.custom import CUSTOM
from relaystack.tools.file_search import FILE_SEARCH
from relaystack.tools.function import FUNCTION
from relaystack.tools.kind import ServerTool, ToolKind
from relaystack.tools.mcp import MCP
from relaystack.tools.web_search import WEB_SEARCH_TOOLS

_TOOLS: tuple[ToolKind, ...] = (FUNCTION, MCP, *WEB_SEARCH_TOOLS, FILE_SEARCH, CUSTOM)
TOOL_KINDS: dict[str, ToolKind] = {tool.tool_type: tool for tool in _TOOLS}
if TYPE_CHECKING:
    # The server-side ones checked against ``ServerTool`` as a whole: a session that
    # lacks a method of ``ToolSession`` (``close``, say) is then a type error in
    # ``make lint``, not an AttributeError at the end of a response.
    _SERVER_TOOLS: tuple[ServerTool, ...] = (MCP, *WEB_SEARCH_TOOLS, FILE_SEARCH)

_CORE_ITEM_KINDS: tuple[ItemKind, ...] = (MESSAGE, REASONING, ITEM_REFERENCE, COMPACTION)

ITEM_KINDS: dict[str, ItemKind] = {
    kind.item_type: kind
    for kind in (*_CORE_ITEM_KINDS, *(k for tool in TOOL_KINDS.values() for k in tool.item_kinds))
}

CHOICE_MODELS: list[tuple[str, type]] = [
    (tool.tool_type, tool.choice_model)
    for tool in TOOL_KINDS.values()
    if tool.choice_model is not None
]


def _type_of(default: str | None) -> Any:
    def tag(value: Any) -> str | None:
        if isinstance(value, dict):
            return value.get("type", default)
        return getattr(value, "type", None)

    return tag


def tagged_union(models: Iterable[tuple[str, type]], default: str | None = None) -> Any:
    """A union of models told apart by their ``type`` (``default`` when it is absent)."""
    members = tuple(Annotated[model, Tag(tag)] for tag, model in models)
    return Annotated[Union[members], Discriminator(_type_of(default))]  # noqa: UP007


if TYPE_CHECKING:
    # Built at import time from the lists above; to a type checker, any model.
    InputItem = Any
    ToolDefinition = Any
    ToolChoiceForm = Any
else:
    # A message may omit ``type`` (OpenAI's "easy input message").
    InputItem = tagged_union(
        ((kind.item_type, kind.input_model) for kind in ITEM_KINDS.values()), default="message"
    )
    ToolDefinition = tagged_union(
        (tool.tool_type, tool.definition_model) for tool in TOOL_KINDS.values()
    )
    # The tool_choice forms that name one tool ({"type": "function", "name": ...}).
    ToolChoiceForm = tagged_union(CHOICE_MODELS)

# Every tag of the tagged unions above: they appear in validation error locations.
UNION_TAGS = frozenset([*ITEM_KINDS, *TOOL_KINDS])


def offered_names(definitions: Iterable[Any]) -> list[str]:
    """The chat function names a request's ``tools`` offer upstream, in order."""
    return [name for tool in definitions for name in TOOL_KINDS[tool.type].chat_names(tool)]
