"""The ``web_search_call`` output item and its stream events, as OpenAI documents them.

    {"type": "web_search_call", "id": "ws_...", "status": "completed",
     "action": {"type": "search", "query": "...",
                "sources": [{"type": "url", "url": "..."}]}}

``sources`` join the item only when the request asked for
``include: ["web_search_call.action.sources"]`` (the session adds them when the search
has run), so the stored item is the one the response showed. While the call runs, the
stream says ``response.web_search_call.in_progress``, ``.searching`` and ``.completed``
(each with ``item_id`` and ``output_index``), between the item's ``output_item.added``
(status ``in_progress``) and ``output_item.done``.
(The Open Responses spec has no web search item; these shapes are OpenAI's.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NotRequired, TypedDict

from relaystack.search.base import SearchResult

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


def sources_of(results: Iterable[SearchResult]) -> list[WebSearchSource]:
    """One ``url`` source per distinct url, in result order."""
    urls = dict.fromkeys(result.url for result in results)
    return [{"type": "url", "url": url} for url in urls]


def web_search_call(
    item_id: str, query: str, *, status: WebSearchStatus = "completed"
) -> WebSearchCallItem:
    """The item without ``sources`` (added by whoever ran the search, when included)."""
    action: WebSearchAction = {"type": "search", "query": query}
    return {"id": item_id, "type": "web_search_call", "status": status, "action": action}
