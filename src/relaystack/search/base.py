"""What every web search backend is: one ``search`` call that answers with results.

A backend is anything with the ``SearchBackend`` shape: SearXNG, Tavily, the offline
corpus. It takes the tool's options already parsed (``allowed_domains`` normalised,
``user_location`` as given) and answers with at most ``max_results`` results, every one
of them inside ``allowed_domains`` when that is not empty. Failures are ``SearchError``s
(see ``search.errors``), never bare exceptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

ContextSize = Literal["low", "medium", "high"]


@dataclass(frozen=True)
class SearchResult:
    """One page a search found: where it is, what it is called, and text from it."""

    url: str
    title: str
    content: str


@dataclass(frozen=True)
class UserLocation:
    """OpenAI's ``user_location`` (``type: "approximate"``); every field may be missing.

    ``country`` is a two-letter ISO code (``US``), ``timezone`` an IANA name.
    """

    city: str | None = None
    region: str | None = None
    country: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class ContextBudget:
    """How much of the search goes back to the model for one ``search_context_size``."""

    results: int  # sources asked of the backend and shown to the model
    chars_per_result: int  # text of each source shown to the model, at most


# OpenAI documents only the words (medium is the default); these are our numbers.
CONTEXT_BUDGETS: dict[ContextSize, ContextBudget] = {
    "low": ContextBudget(results=3, chars_per_result=400),
    "medium": ContextBudget(results=5, chars_per_result=1000),
    "high": ContextBudget(results=8, chars_per_result=3000),
}
DEFAULT_CONTEXT_SIZE: ContextSize = "medium"


class SearchBackend(Protocol):
    """A place to search. ``name`` is how error messages call it (``"SearXNG"``)."""

    name: str

    async def search(
        self,
        query: str,
        *,
        max_results: int,
        allowed_domains: Sequence[str] = (),
        user_location: UserLocation | None = None,
        context_size: ContextSize = DEFAULT_CONTEXT_SIZE,
    ) -> list[SearchResult]: ...
