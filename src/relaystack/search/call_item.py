"""The ``web_search_call`` output item and its stream events, as OpenAI documents them.

    {"type": "web_search_call", "id": "ws_...", "status": "completed",
     "action": {"type": "search", "query": "...",
                "sources": [{"type": "url", "url": "..."}]}}

The stored item always keeps ``sources``; a response shows them only when the request
asked for ``include: ["web_search_call.action.sources"]`` (``presented``). While the
call runs, the stream says ``response.web_search_call.in_progress``, ``.searching`` and
``.completed`` (each with ``item_id`` and ``output_index``), between the item's
``output_item.added`` (status ``in_progress``) and ``output_item.done``.
(The Open Responses spec has no web search item; these shapes are OpenAI's.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, NotRequired, TypedDict

from relaystack.ids import IdSource
from relaystack.search.base import SearchResult

ID_PREFIX = "ws"
SOURCES_INCLUDE = "web_search_call.action.sources"

WebSearchStatus = Literal["in_progress", "searching", "completed", "failed"]
WebSearchEventType = Literal[
    "response.web_search_call.in_progress",
    "response.web_search_call.searching",
    "response.web_search_call.completed",
]
# In the order a call emits them.
EVENT_TYPES: tuple[WebSearchEventType, ...] = (
    "response.web_search_call.in_progress",
    "response.web_search_call.searching",
    "response.web_search_call.completed",
)


class WebSearchSource(TypedDict):
    type: Literal["url"]
    url: str


class WebSearchAction(TypedDict):
    type: Literal["search"]
    query: str
    sources: NotRequired[list[WebSearchSource]]


class WebSearchCallItem(TypedDict):
    id: str
    type: Literal["web_search_call"]
    status: WebSearchStatus
    action: WebSearchAction


def new_call_id(ids: IdSource) -> str:
    return ids(ID_PREFIX)


def sources_of(results: Iterable[SearchResult]) -> list[WebSearchSource]:
    """One ``url`` source per distinct url, in result order."""
    urls = dict.fromkeys(result.url for result in results)
    return [{"type": "url", "url": url} for url in urls]


def web_search_call(
    item_id: str,
    query: str,
    *,
    status: WebSearchStatus = "completed",
    results: Sequence[SearchResult] | None = None,
) -> WebSearchCallItem:
    """The item as stored: with ``sources`` once there are results (even none found)."""
    action: WebSearchAction = {"type": "search", "query": query}
    if results is not None:
        action["sources"] = sources_of(results)
    return {"id": item_id, "type": "web_search_call", "status": status, "action": action}


def presented(item: WebSearchCallItem, include: Iterable[str] | None) -> WebSearchCallItem:
    """The item as a response shows it: ``sources`` only when ``include`` asks for them."""
    if SOURCES_INCLUDE in (include or ()) or "sources" not in item["action"]:
        return item
    action: WebSearchAction = {"type": "search", "query": item["action"]["query"]}
    return {**item, "action": action}
