"""What ``file_search`` shares with the retrieval engine: attribute filters, ranking
options, a search hit, and the ``FileSearcher`` the tool is given (the engine above
implements it; the tool never imports the engine).

Filters are OpenAI's: a comparison ``{"type": "eq"|"ne"|"gt"|"gte"|"lt"|"lte"|"in"|"nin",
"key", "value"}`` or a compound ``{"type": "and"|"or", "filters": [...]}``, read
against a file's ``attributes``. A comparison of values of different kinds (a string
with a number) is false, as is any comparison with a missing key but ``ne``/``nin``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, Union

from pydantic import Field

from relaystack.strict import StrictModel

Scalar = str | float | bool
Attributes = dict[str, Scalar]


class ComparisonFilter(StrictModel):
    type: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"]
    key: str
    value: Union[str, float, bool, list[Union[str, float]]]  # noqa: UP007

    def matches(self, attributes: Attributes) -> bool:
        present = self.key in attributes
        actual = attributes.get(self.key)
        if self.type in ("in", "nin"):
            values = self.value if isinstance(self.value, list) else [self.value]
            inside = present and any(_same(actual, value) for value in values)
            return inside if self.type == "in" else not inside
        if self.type == "ne":
            return not (present and _same(actual, self.value))
        if not present or not _comparable(actual, self.value):
            return False
        if self.type == "eq":
            return _same(actual, self.value)
        compare = {
            "gt": lambda a, b: a > b,
            "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b,
            "lte": lambda a, b: a <= b,
        }[self.type]
        return bool(compare(actual, self.value))


class CompoundFilter(StrictModel):
    type: Literal["and", "or"]
    filters: list[Union[ComparisonFilter, CompoundFilter]] = Field(min_length=1)  # noqa: UP007

    def matches(self, attributes: Attributes) -> bool:
        results = (item.matches(attributes) for item in self.filters)
        return all(results) if self.type == "and" else any(results)


Filter = Union[ComparisonFilter, CompoundFilter]  # noqa: UP007


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _comparable(a: Any, b: Any) -> bool:
    return _kind(a) == _kind(b) and _kind(a) in ("number", "str", "bool")


def _same(a: Any, b: Any) -> bool:
    return _kind(a) == _kind(b) and a == b


class HybridWeights(StrictModel):
    embedding_weight: float = Field(1.0, ge=0)
    text_weight: float = Field(1.0, ge=0)


class RankingOptions(StrictModel):
    ranker: Literal["auto", "default-2024-11-15", "none"] | None = None
    score_threshold: float | None = Field(None, ge=0, le=1)
    hybrid_search: HybridWeights | None = None


@dataclass(frozen=True)
class SearchHit:
    file_id: str
    filename: str
    score: float
    text: str
    attributes: Attributes


class FileSearcher(Protocol):
    async def search(
        self,
        owner: str,
        vector_store_ids: Sequence[str],
        queries: Sequence[str],
        *,
        max_results: int,
        filters: Filter | None = None,
        ranking: RankingOptions | None = None,
    ) -> list[SearchHit]:
        """The best chunks of the owner's stores; ``NotFound`` for a store that is not
        the owner's."""
        ...
