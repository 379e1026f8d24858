"""The ``web_search`` tool (and ``web_search_preview``): searches run by relaystack.

The model is offered one chat function, ``web_search(query)``. Each call is a
``web_search_call`` item (``search.call_item``) that goes ``in_progress``,
``searching``, ``completed`` (or ``failed``, which the model reads), searched by the
configured backend, or the offline one for ``external_web_access: false``. The model
reads the numbered results (``search.model_text``); its answer's ``[n]`` marks and links
to them become ``url_citation`` annotations (``search.citations``). Sources show in the
item only when ``include`` asks for ``web_search_call.action.sources``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from relaystack.errors import ApiError, InvalidRequest
from relaystack.ids import IdSource
from relaystack.items.events import Event, EventSequence
from relaystack.items.kind import ChatMessage, Item, ItemKind
from relaystack.search.base import CONTEXT_BUDGETS, SearchResult
from relaystack.search.call_item import (
    EVENT_TYPES,
    SOURCES_INCLUDE,
    sources_of,
    web_search_call,
)
from relaystack.search.citations import citations_in
from relaystack.search.definition import WebSearchDefinition, WebSearchType
from relaystack.search.errors import no_backend
from relaystack.search.model_text import results_text
from relaystack.strict import StrictModel
from relaystack.tools.function import append_call
from relaystack.tools.kind import ChatTool, ToolContext, arguments_object
from relaystack.tools.model_texts import ModelTexts
from relaystack.wire.json import dumps_str

CHAT_NAME = "web_search"
WEB_SEARCH_TYPES: tuple[str, ...] = WebSearchType.__args__  # type: ignore[attr-defined]
_IN_PROGRESS, _SEARCHING, _COMPLETED = EVENT_TYPES
# What the model read of recent searches (a chained turn reads it again).
_MODEL_TEXTS = ModelTexts()


class WebSearchChoice(StrictModel):
    type: WebSearchType


# ----- the item ----------------------------------------------------------------------


class WebSearchCallInput(StrictModel):
    type: Literal["web_search_call"]
    id: str
    status: Literal["in_progress", "searching", "completed", "failed"]
    action: dict[str, Any] | None = None


class WebSearchCallKind:
    item_type: ClassVar[str] = "web_search_call"
    input_model: ClassVar[type[StrictModel]] = WebSearchCallInput

    def normalize(self, raw: WebSearchCallInput, ids: IdSource) -> Item:
        return raw.model_dump(exclude_none=True)

    def to_chat(self, item: Item, messages: list[ChatMessage]) -> None:
        action = item.get("action") or {}
        query = action.get("query") or ""
        append_call(messages, item["id"], CHAT_NAME, dumps_str({"query": query}))
        messages.append({"role": "tool", "tool_call_id": item["id"], "content": _text_of(item)})


def _text_of(item: Item) -> str:
    kept = _MODEL_TEXTS.get(item["id"])
    if kept is not None:
        return kept
    action = item.get("action") or {}
    if item.get("status") == "failed":
        return "The search failed."
    urls = [source["url"] for source in action.get("sources") or ()]
    if not urls:
        return f'Web search for "{action.get("query", "")}" ran; its results are not kept.'
    return f'Web search for "{action.get("query", "")}" found: ' + ", ".join(urls)


WEB_SEARCH_CALL = WebSearchCallKind()


# ----- the tool ----------------------------------------------------------------------


class WebSearchTool:
    """One of the names the tool goes by (``web_search``, ``web_search_preview``...)."""

    definition_model: ClassVar[type[StrictModel]] = WebSearchDefinition
    choice_model: ClassVar[type[StrictModel] | None] = WebSearchChoice
    item_kinds: ClassVar[tuple[ItemKind, ...]] = (WEB_SEARCH_CALL,)
    runs_on_server: ClassVar[bool] = True

    tool_type: ClassVar[str] = "web_search"

    def chat_names(self, definition: WebSearchDefinition) -> list[str]:
        return [CHAT_NAME]

    def offer(self, definition: WebSearchDefinition) -> list[ChatTool]:
        return []  # the session offers it, while max_tool_calls allows

    def chosen_names(self, choice: WebSearchChoice) -> list[str]:
        return [CHAT_NAME]

    def open_call(self, call_id: str, name: str, ids: IdSource) -> Item:
        # The id follows the model's call id: the next round's upstream body (a
        # recording key) then repeats exactly on replay.
        return dict(web_search_call(f"ws_{call_id}", "", status="in_progress"))

    def arguments_delta(
        self, seq: EventSequence, item: Item, output_index: int, delta: str
    ) -> Event | None:
        return None

    def close_call(
        self, seq: EventSequence, item: Item, output_index: int, arguments: str
    ) -> list[Event]:
        parsed = arguments_object(arguments)
        query = parsed.get("query") if parsed is not None else None
        item["action"]["query"] = query if isinstance(query, str) else ""
        return []

    def begin(
        self, definitions: Sequence[tuple[int, WebSearchDefinition]], context: ToolContext
    ) -> WebSearchSession:
        return WebSearchSession(definitions, context)


def _named(tool_type: str) -> WebSearchTool:
    """The tool under one of its names (each name is its own tag in the request models)."""
    named: type[WebSearchTool] = type(f"WebSearchTool[{tool_type}]", (WebSearchTool,), {})
    named.tool_type = tool_type
    return named()


WEB_SEARCH_TOOLS: tuple[WebSearchTool, ...] = tuple(map(_named, WEB_SEARCH_TYPES))


# ----- one response's searches -------------------------------------------------------


class WebSearchSession:
    def __init__(
        self, definitions: Sequence[tuple[int, WebSearchDefinition]], context: ToolContext
    ) -> None:
        position, definition = definitions[0]
        if len(definitions) > 1:
            raise InvalidRequest(
                "Give the web_search tool once in 'tools'.",
                param=f"tools[{definitions[1][0]}]",
                code="invalid_value",
            )
        backends = context.search
        if backends is None or (backends.online is None and definition.goes_online):
            raise no_backend(position)
        self._backends = backends
        self._definition = definition
        self._show_sources = SOURCES_INCLUDE in context.include
        self._cited: list[SearchResult] = []  # the last search's numbered results

    def opening_items(self) -> list[Item]:
        return []

    def offer(self) -> list[ChatTool]:
        description = "Search the web. Cite the results you use by their number, e.g. [1]."
        if self._definition.allowed_domains:
            description += " Only these sites are searched: " + ", ".join(
                self._definition.allowed_domains
            )
        query = {"type": "string", "description": "What to search for."}
        parameters = {"type": "object", "properties": {"query": query}, "required": ["query"]}
        function = {"name": CHAT_NAME, "description": description, "parameters": parameters}
        return [{"type": "function", "function": function}]

    def handlers(self) -> Mapping[str, Any]:
        return {CHAT_NAME: WEB_SEARCH_TOOLS[0]}

    def chosen_names(self, choice: WebSearchChoice) -> list[str]:
        return [CHAT_NAME]

    def runs(self, item: Item) -> bool:
        return item["type"] == "web_search_call"

    def started(self, seq: EventSequence, item: Item, output_index: int) -> list[Event]:
        item["status"] = "searching"
        return [
            _event(seq, _IN_PROGRESS, item, output_index),
            _event(seq, _SEARCHING, item, output_index),
        ]

    async def run(self, item: Item) -> None:
        definition = self._definition
        query = item["action"]["query"]
        if not query.strip():
            item["status"] = "failed"
            _MODEL_TEXTS.keep(item["id"], "The search failed: the call gave no query.")
            return
        backend = self._backends.for_access(definition.goes_online)
        try:
            results = await backend.search(
                query,
                max_results=CONTEXT_BUDGETS[definition.context_size].results,
                allowed_domains=definition.allowed_domains,
                user_location=definition.user_location.location()
                if definition.user_location
                else None,
                context_size=definition.context_size,
            )
        except ApiError as error:
            item["status"] = "failed"
            _MODEL_TEXTS.keep(item["id"], f"The search failed: {error.message}")
            return
        self._backends.remember(results)
        self._cited = list(results)
        item["status"] = "completed"
        if self._show_sources:
            item["action"]["sources"] = sources_of(results)
        _MODEL_TEXTS.keep(item["id"], results_text(query, results, definition.context_size))

    def not_run(self, item: Item, reason: str) -> None:
        item["status"] = "failed"
        _MODEL_TEXTS.keep(item["id"], f"Not run: {reason}.")

    def ended(self, seq: EventSequence, item: Item, output_index: int) -> list[Event]:
        return [_event(seq, _COMPLETED, item, output_index)]

    def annotations(self, text: str) -> list[dict[str, Any]]:
        return [dict(citation) for citation in citations_in(text, self._cited)]

    def close(self) -> None:
        pass  # the backends' client is the app's, shared by every response


def _event(seq: EventSequence, type: str, item: Item, output_index: int) -> Event:
    return seq.tool_call(type, item_id=item["id"], output_index=output_index)
