"""The ``file_search`` tool: searches of the owner's vector stores, run by relaystack.

The model is offered one chat function, ``file_search(query)``. Each call is a
``file_search_call`` item (``queries``, ``status``: ``in_progress``, ``searching``,
``completed`` or ``failed``, which the model reads), searched by the ``FileSearcher``
the engine was given (``retrieval.search``: hybrid, scoped to the request's
``vector_store_ids`` and the owner). The model reads the numbered chunks; its answer's
``[n]`` marks become ``file_citation`` annotations (``file_id``, ``filename``, and
``index``: where the mark starts in the text). ``results`` show in the item only when
``include`` asks for ``file_search_call.results``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, NotRequired, TypedDict

from pydantic import Field

from relaystack.errors import ApiError, InvalidRequest
from relaystack.ids import IdSource
from relaystack.items.events import Event, EventSequence
from relaystack.items.kind import ChatMessage, Item, ItemKind
from relaystack.strict import StrictModel
from relaystack.tools.file_search_types import (
    FileSearcher,
    Filter,
    RankingOptions,
    SearchHit,
)
from relaystack.tools.function import append_call
from relaystack.tools.kind import ChatTool, ToolContext, arguments_object
from relaystack.tools.model_texts import ModelTexts
from relaystack.wire.json import dumps_str

CHAT_NAME = "file_search"
RESULTS_INCLUDE = "file_search_call.results"
DEFAULT_MAX_RESULTS = 10  # OpenAI's default for the tool
CHARS_PER_RESULT = 2000  # of a chunk's text the model reads (a chunk is ~800 tokens)
FileSearchStatus = Literal["in_progress", "searching", "completed", "incomplete", "failed"]
FileSearchEventType = Literal[
    "response.file_search_call.in_progress",
    "response.file_search_call.searching",
    "response.file_search_call.completed",
]
_IN_PROGRESS: FileSearchEventType = "response.file_search_call.in_progress"
_SEARCHING: FileSearchEventType = "response.file_search_call.searching"
_COMPLETED: FileSearchEventType = "response.file_search_call.completed"
_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
# What the model read of recent searches (a chained turn reads it again).
_MODEL_TEXTS = ModelTexts()


class FileSearchResult(TypedDict):
    file_id: str
    filename: str
    score: float
    text: str
    attributes: dict[str, Any]


class FileSearchCallItem(TypedDict):
    id: str
    type: Literal["file_search_call"]
    status: FileSearchStatus
    queries: list[str]
    results: NotRequired[list[FileSearchResult] | None]


class FileSearchDefinition(StrictModel):
    type: Literal["file_search"]
    vector_store_ids: list[str] = Field(min_length=1, max_length=100)
    max_num_results: int | None = Field(None, ge=1, le=50)
    filters: Filter | None = None
    ranking_options: RankingOptions | None = None


class FileSearchChoice(StrictModel):
    type: Literal["file_search"]


# ----- the item ----------------------------------------------------------------------


class FileSearchCallInput(StrictModel):
    type: Literal["file_search_call"]
    id: str
    status: FileSearchStatus
    queries: list[str]
    results: list[dict[str, Any]] | None = None


class FileSearchCallKind:
    item_type: ClassVar[str] = "file_search_call"
    input_model: ClassVar[type[StrictModel]] = FileSearchCallInput

    def normalize(self, raw: FileSearchCallInput, ids: IdSource) -> Item:
        return raw.model_dump(exclude_none=True)

    def to_chat(self, item: Item, messages: list[ChatMessage]) -> None:
        query = " ".join(item.get("queries") or [])
        append_call(messages, item["id"], CHAT_NAME, dumps_str({"query": query}))
        messages.append({"role": "tool", "tool_call_id": item["id"], "content": _text_of(item)})


def _text_of(item: Item) -> str:
    kept = _MODEL_TEXTS.get(item["id"])
    if kept is not None:
        return kept
    if item.get("status") == "failed":
        return "The file search failed."
    results = item.get("results")
    query = " ".join(item.get("queries") or [])
    if results is None:
        return f'File search for "{query}" ran; its results are not kept.'
    return results_text(query, [_hit(result) for result in results])


def _hit(result: dict[str, Any]) -> SearchHit:
    return SearchHit(
        result.get("file_id", ""),
        result.get("filename", ""),
        float(result.get("score", 0.0)),
        result.get("text", ""),
        result.get("attributes") or {},
    )


def results_text(query: str, hits: Sequence[SearchHit]) -> str:
    """The numbered chunks the model reads, each under its file's name."""
    if not hits:
        return f'File search for "{query}": nothing was found.'
    header = (
        f'File search results for "{query}". Cite a result by its number in brackets, e.g. [1].'
    )
    blocks = [
        f"[{number}] {hit.filename}\n{hit.text[:CHARS_PER_RESULT].strip()}"
        for number, hit in enumerate(hits, start=1)
    ]
    return "\n\n".join([header, *blocks])


FILE_SEARCH_CALL = FileSearchCallKind()


# ----- the tool ----------------------------------------------------------------------


class FileSearchTool:
    tool_type: ClassVar[str] = "file_search"
    definition_model: ClassVar[type[StrictModel]] = FileSearchDefinition
    choice_model: ClassVar[type[StrictModel] | None] = FileSearchChoice
    item_kinds: ClassVar[tuple[ItemKind, ...]] = (FILE_SEARCH_CALL,)
    runs_on_server: ClassVar[bool] = True

    def chat_names(self, definition: FileSearchDefinition) -> list[str]:
        return [CHAT_NAME]

    def offer(self, definition: FileSearchDefinition) -> list[ChatTool]:
        return []  # the session offers it

    def chosen_names(self, choice: FileSearchChoice) -> list[str]:
        return [CHAT_NAME]

    def open_call(self, call_id: str, name: str, ids: IdSource) -> Item:
        # The id follows the model's call id, so a replayed next round repeats exactly.
        item: FileSearchCallItem = {
            "id": f"fs_{call_id}",
            "type": "file_search_call",
            "status": "in_progress",
            "queries": [],
            "results": None,
        }
        return dict(item)

    def arguments_delta(
        self, seq: EventSequence, item: Item, output_index: int, delta: str
    ) -> Event | None:
        return None

    def close_call(
        self, seq: EventSequence, item: Item, output_index: int, arguments: str
    ) -> list[Event]:
        item["queries"] = _queries_of(arguments_object(arguments))
        return []

    def begin(
        self, definitions: Sequence[tuple[int, FileSearchDefinition]], context: ToolContext
    ) -> FileSearchSession:
        return FileSearchSession(definitions, context)


def _queries_of(arguments: Any) -> list[str]:
    """``{"query": "..."}`` as offered; ``{"queries": [...]}`` as OpenAI's item holds them."""
    if not isinstance(arguments, dict):
        return []
    queries = arguments.get("queries")
    if isinstance(queries, list):
        return [query for query in queries if isinstance(query, str) and query.strip()]
    query = arguments.get("query")
    return [query] if isinstance(query, str) and query.strip() else []


FILE_SEARCH = FileSearchTool()


# ----- one response's searches -------------------------------------------------------


class FileSearchSession:
    def __init__(
        self, definitions: Sequence[tuple[int, FileSearchDefinition]], context: ToolContext
    ) -> None:
        position, definition = definitions[0]
        if len(definitions) > 1:
            raise InvalidRequest(
                "Give the file_search tool once in 'tools'.",
                param=f"tools[{definitions[1][0]}]",
                code="invalid_value",
            )
        if context.file_search is None:
            raise InvalidRequest(
                "file_search is not available on this server.",
                param=f"tools[{position}]",
                code="unsupported_tool",
            )
        self._searcher: FileSearcher = context.file_search
        self._owner = context.owner
        self._definition = definition
        self._show_results = RESULTS_INCLUDE in context.include
        self._cited: list[SearchHit] = []  # the last search's numbered results

    def opening_items(self) -> list[Item]:
        return []

    def offer(self) -> list[ChatTool]:
        description = (
            "Search the user's uploaded files for passages relevant to a query. "
            "Cite the results you use by their number, e.g. [1]."
        )
        query = {"type": "string", "description": "What to look for in the files."}
        parameters = {"type": "object", "properties": {"query": query}, "required": ["query"]}
        function = {"name": CHAT_NAME, "description": description, "parameters": parameters}
        return [{"type": "function", "function": function}]

    def handlers(self) -> Mapping[str, Any]:
        return {CHAT_NAME: FILE_SEARCH}

    def chosen_names(self, choice: FileSearchChoice) -> list[str]:
        return [CHAT_NAME]

    def runs(self, item: Item) -> bool:
        return item["type"] == "file_search_call"

    def started(self, seq: EventSequence, item: Item, output_index: int) -> list[Event]:
        item["status"] = "searching"
        return [
            seq.tool_call(_IN_PROGRESS, item_id=item["id"], output_index=output_index),
            seq.tool_call(_SEARCHING, item_id=item["id"], output_index=output_index),
        ]

    async def run(self, item: Item) -> None:
        queries = item["queries"]
        if not queries:
            item["status"] = "failed"
            _MODEL_TEXTS.keep(item["id"], "The file search failed: the call gave no query.")
            return
        definition = self._definition
        try:
            hits = await self._searcher.search(
                self._owner,
                definition.vector_store_ids,
                queries,
                max_results=definition.max_num_results or DEFAULT_MAX_RESULTS,
                filters=definition.filters,
                ranking=definition.ranking_options,
            )
        except ApiError as error:
            item["status"] = "failed"
            _MODEL_TEXTS.keep(item["id"], f"The file search failed: {error.message}")
            return
        self._cited = list(hits)
        item["status"] = "completed"
        if self._show_results:
            item["results"] = [_result(hit) for hit in hits]
        _MODEL_TEXTS.keep(item["id"], results_text(" ".join(queries), hits))

    def not_run(self, item: Item, reason: str) -> None:
        item["status"] = "failed"
        _MODEL_TEXTS.keep(item["id"], f"Not run: {reason}.")

    def ended(self, seq: EventSequence, item: Item, output_index: int) -> list[Event]:
        return [seq.tool_call(_COMPLETED, item_id=item["id"], output_index=output_index)]

    def annotations(self, text: str) -> list[dict[str, Any]]:
        """A ``file_citation`` per cited result, at the index where its mark starts."""
        found = []
        for marker in _MARKER.finditer(text):
            for number in re.findall(r"\d+", marker.group(1)):
                if 1 <= int(number) <= len(self._cited):
                    hit = self._cited[int(number) - 1]
                    found.append(
                        {
                            "type": "file_citation",
                            "file_id": hit.file_id,
                            "filename": hit.filename,
                            "index": marker.start(),
                        }
                    )
        return found

    def close(self) -> None:
        pass  # the searcher is the app's, shared by every response


def _result(hit: SearchHit) -> FileSearchResult:
    return {
        "file_id": hit.file_id,
        "filename": hit.filename,
        "score": hit.score,
        "text": hit.text,
        "attributes": dict(hit.attributes),
    }
