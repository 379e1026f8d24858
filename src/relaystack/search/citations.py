"""``url_citation`` annotations: which spans of the answer cite which source.

The model sees its sources numbered (``search.model_text``) and is asked to cite them
as ``[1]``; it may also write a Markdown link to a source's url. Each citation becomes

    {"type": "url_citation", "url", "title", "start_index", "end_index"}

where ``answer[start_index:end_index]`` is the citation's own text: the marker
(``[1]``, or ``[1, 3]``, which cites both) or the whole link. Indices count Python
characters (code points). Numbers without a source and links to other urls cite nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, TypedDict

from relaystack.search.base import SearchResult

_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\](?!\()")
_LINK = re.compile(r"\[([^\]\n]*)\]\((\S+?)\)")


class UrlCitation(TypedDict):
    type: Literal["url_citation"]
    url: str
    title: str
    start_index: int
    end_index: int


def url_citation(url: str, title: str, start_index: int, end_index: int) -> UrlCitation:
    return {
        "type": "url_citation",
        "url": url,
        "title": title,
        "start_index": start_index,
        "end_index": end_index,
    }


def citations_in(answer: str, sources: Sequence[SearchResult]) -> list[UrlCitation]:
    """Every citation of ``sources`` in ``answer``, in text order. ``sources`` are the
    results as ``results_text`` numbered them (from 1)."""
    by_url = {source.url: source for source in sources}
    found: list[UrlCitation] = []
    for link in _LINK.finditer(answer):
        source = by_url.get(link.group(2))
        if source is not None:
            found.append(url_citation(source.url, source.title, link.start(), link.end()))
    for marker in _MARKER.finditer(answer):
        for number in re.findall(r"\d+", marker.group(1)):
            if 1 <= int(number) <= len(sources):
                source = sources[int(number) - 1]
                found.append(url_citation(source.url, source.title, marker.start(), marker.end()))
    return sorted(found, key=lambda c: (c["start_index"], c["end_index"]))
