"""The offline backend: answers from pages relaystack already holds, never the network.

Pages come from a local corpus (``search.corpus``) at start-up and from ``add_pages``
at run time, e.g. the results of earlier searches, so ``external_web_access: false``
can answer from what was found before. A page is keyed by its url; adding a url again
replaces the page.

Ranking is BM25 (``search.bm25``) over the title and the content, the title's terms
counted twice so a page named after the query outranks one that mentions it once.
A result's content is an excerpt of the page: it starts at the paragraph holding the
first query term and runs for the ``chars_per_result`` of the requested
``search_context_size``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from relaystack.search.base import (
    CONTEXT_BUDGETS,
    DEFAULT_CONTEXT_SIZE,
    ContextSize,
    SearchResult,
    UserLocation,
)
from relaystack.search.bm25 import Bm25Index, terms
from relaystack.search.domains import domain_allowed
from relaystack.search.model_text import clip

TITLE_WEIGHT = 2


class OfflineBackend:
    name = "offline"

    def __init__(self, pages: Iterable[SearchResult] = ()) -> None:
        self._pages: dict[str, SearchResult] = {}
        self._index: Bm25Index[str] = Bm25Index()
        self.add_pages(pages)

    def __len__(self) -> int:
        return len(self._pages)

    def pages(self) -> list[SearchResult]:
        return list(self._pages.values())

    def add_pages(self, pages: Iterable[SearchResult]) -> None:
        """Make ``pages`` searchable from now on (a url seen before is replaced)."""
        for page in pages:
            self._pages[page.url] = page
            self._index.put(page.url, terms(page.title) * TITLE_WEIGHT + terms(page.content))

    async def search(
        self,
        query: str,
        *,
        max_results: int,
        allowed_domains: Sequence[str] = (),
        user_location: UserLocation | None = None,
        context_size: ContextSize = DEFAULT_CONTEXT_SIZE,
    ) -> list[SearchResult]:
        width = CONTEXT_BUDGETS[context_size].chars_per_result
        found: list[SearchResult] = []
        for url, _score in self._index.rank(query):
            if len(found) >= max_results:
                break
            if domain_allowed(url, allowed_domains):
                page = self._pages[url]
                found.append(SearchResult(url, page.title, excerpt(page.content, query, width)))
        return found


def excerpt(content: str, query: str, width: int) -> str:
    """Up to ``width`` characters of ``content`` around its first query term: from the
    start of that paragraph, or from a little before the term in a long paragraph."""
    lowered = content.lower()
    hits = [lowered.find(term) for term in terms(query)]
    first = min((at for at in hits if at >= 0), default=0)
    start = lowered.rfind("\n", 0, first) + 1  # 0 when there is no earlier newline
    prefix = ""
    if first - start > width // 3:
        space = content.rfind(" ", start, first - width // 6)
        start, prefix = (space + 1 if space >= 0 else first), "... "
    return prefix + clip(content[start:], width)
