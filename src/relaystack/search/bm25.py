"""Okapi BM25 over an in-memory inverted index: the offline backend's ranking.

A document's score for a query is the sum over the query's distinct terms of

    idf(t) * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average_length))

with ``idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))`` (always positive), ``tf`` the
term's count in the document, ``N`` the number of documents and ``df`` how many hold
the term. Terms are lower-cased runs of letters and digits (``\\w+``, so any script).
Documents can be added and replaced at any time; nothing is precomputed that a change
would invalidate except the running length total.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

K1 = 1.5
B = 0.75

_TERM = re.compile(r"\w+")

Key = TypeVar("Key", bound=Hashable)


def terms(text: str) -> list[str]:
    return _TERM.findall(text.lower())


class Bm25Index(Generic[Key]):
    def __init__(self) -> None:
        self._counts: dict[Key, Counter[str]] = {}
        self._lengths: dict[Key, int] = {}
        self._postings: dict[str, set[Key]] = {}
        self._total_length = 0

    def __len__(self) -> int:
        return len(self._counts)

    def put(self, key: Key, words: Iterable[str]) -> None:
        """Index ``words`` as document ``key``, replacing what ``key`` held before."""
        self.remove(key)
        counts = Counter(words)
        self._counts[key] = counts
        self._lengths[key] = sum(counts.values())
        self._total_length += self._lengths[key]
        for term in counts:
            self._postings.setdefault(term, set()).add(key)

    def remove(self, key: Key) -> None:
        counts = self._counts.pop(key, None)
        if counts is None:
            return
        self._total_length -= self._lengths.pop(key)
        for term in counts:
            holders = self._postings[term]
            holders.discard(key)
            if not holders:
                del self._postings[term]

    def rank(self, query: str) -> list[tuple[Key, float]]:
        """Documents holding at least one query term, best first (ties: insertion order)."""
        count = len(self._counts)
        if not count:
            return []
        average = self._total_length / count or 1.0
        scores: dict[Key, float] = {}
        for term in dict.fromkeys(terms(query)):
            holders = self._postings.get(term, ())
            idf = math.log(1 + (count - len(holders) + 0.5) / (len(holders) + 0.5))
            for key in holders:
                tf = self._counts[key][term]
                norm = K1 * (1 - B + B * self._lengths[key] / average)
                scores[key] = scores.get(key, 0.0) + idf * tf * (K1 + 1) / (tf + norm)
        order = {key: i for i, key in enumerate(self._counts)}
        return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))
