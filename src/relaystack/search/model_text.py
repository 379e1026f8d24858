"""What the model reads back from a search: numbered sources it can cite.

    Web search results for "saturn rings". Cite a source by its number in
    brackets, e.g. [1].

    [1] Saturn's rings - NASA
    URL: https://science.nasa.gov/saturn/rings
    The rings are made of ice ...

How much of each source goes in follows ``search_context_size`` (``CONTEXT_BUDGETS``
in ``search.base``): low shows 3 sources of up to 400 characters each, medium 5 of up
to 1000, high 8 of up to 3000. Longer text is cut at a word boundary and marked ``...``.
"""

from __future__ import annotations

from collections.abc import Sequence

from relaystack.search.base import CONTEXT_BUDGETS, DEFAULT_CONTEXT_SIZE, ContextSize, SearchResult


def results_text(
    query: str, results: Sequence[SearchResult], context_size: ContextSize = DEFAULT_CONTEXT_SIZE
) -> str:
    budget = CONTEXT_BUDGETS[context_size]
    shown = results[: budget.results]
    if not shown:
        return f'Web search results for "{query}": nothing was found.'
    header = f'Web search results for "{query}". Cite a source by its number in brackets, e.g. [1].'
    blocks = [
        f"[{number}] {result.title}\nURL: {result.url}\n"
        + clip(result.content, budget.chars_per_result)
        for number, result in enumerate(shown, start=1)
    ]
    return "\n\n".join([header, *blocks])


def clip(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip() + " ..."
