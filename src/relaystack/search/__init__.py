"""Web search: backends behind one interface, and the pure parts of the web_search tool.

Backends (``SearchBackend``): SearXNG (``searxng``), Tavily (``tavily``) and an offline
corpus (``offline``), built from config (``config``, ``factory``) around an HTTP client
made elsewhere. The tool's parts: its definition (``definition``), the
``web_search_call`` item (``call_item``), the text the model reads (``model_text``) and
the ``url_citation`` annotations found in its answer (``citations``).
This package sits beside ``inference`` and ``store``: it knows HTTP and search, not
responses.
"""

from relaystack.search.base import (
    CONTEXT_BUDGETS,
    ContextBudget,
    ContextSize,
    SearchBackend,
    SearchResult,
    UserLocation,
)
from relaystack.search.errors import SearchError
from relaystack.search.factory import SearchConfigError, build_backend, build_offline
from relaystack.search.offline import OfflineBackend

__all__ = [
    "CONTEXT_BUDGETS",
    "ContextBudget",
    "ContextSize",
    "OfflineBackend",
    "SearchBackend",
    "SearchConfigError",
    "SearchError",
    "SearchResult",
    "UserLocation",
    "build_backend",
    "build_offline",
]
