"""Hybrid search over the owner's vector stores: vectors and keywords, fused.

Per query, chunks are ranked twice: by cosine similarity to the query's embedding
(``index``), and by the database's full-text rank of the query's words. The rankings
are fused by reciprocal rank fusion (RRF, k = 60): a chunk scores ``w / (60 + rank)``
in each ranking it appears in (weights from ``ranking_options.hybrid_search``).
Reported scores are the fused score over the best possible one (first in every
ranking), so they lie in 0..1: 1.0 is first by both vectors and keywords, and a
chunk only one ranking found scores at most its share (0.5 with equal weights).
``score_threshold`` compares against that.

Attribute filters choose the files first; both rankings see only their chunks.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

import numpy as np

from relaystack.errors import NotFound
from relaystack.ids import Clock
from relaystack.retrieval.embedding import Embeddings
from relaystack.retrieval.expiry import use_stores
from relaystack.retrieval.index import StoreMatrix, VectorIndex
from relaystack.store.files_base import FileStore, query_words
from relaystack.tools.file_search_types import Filter, RankingOptions, SearchHit
from relaystack.wire.json import loads

RRF_K = 60
CANDIDATES = 50  # per ranking and query: what fusion chooses from
# Vector scans up to this many floats (1 MB: ~680 chunks of 384 dimensions) run on the
# event loop: they take tens of microseconds, less than handing them to a thread.
INLINE_SCAN = 1 << 18
Mode = Literal["hybrid", "vector", "keyword"]


class Retriever:
    def __init__(
        self,
        files: FileStore,
        embeddings: Embeddings,
        mode: Mode = "hybrid",
        clock: Clock | None = None,
    ) -> None:
        self._files = files
        self._embeddings = embeddings
        self._clock = clock or Clock()
        self._index = VectorIndex(files)
        self.mode = mode

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
        weights = _weights(ranking)
        candidates = max(CANDIDATES, max_results)
        by_vector = self.mode != "keyword" and weights[0] > 0
        by_keyword = self.mode != "vector" and weights[1] > 0
        requested = list(vector_store_ids)
        keywords: asyncio.Future[list[list[int]]] | None = None
        if by_keyword and filters is None:
            # Without filters the keyword queries need nothing read first: they go out
            # with the stores' check (their answer is used only once it passes), so a
            # search waits for one database round trip fewer.
            keywords = asyncio.ensure_future(
                self._keyword_rankings(requested, queries, None, candidates)
            )
        try:
            stores = await self._files.revisions(requested, owner)
            for store_id in vector_store_ids:
                if store_id not in stores:
                    raise NotFound(
                        f"No vector store found with id '{store_id}'.",
                        param="vector_store_ids",
                        code="not_found",
                    )
            now = self._clock.seconds()
            await use_stores(self._files, stores, now)
            allowed = await self._allowed_files(list(stores), filters)
            if by_keyword and keywords is None:
                files = sorted(allowed) if allowed is not None else None
                keywords = asyncio.ensure_future(
                    self._keyword_rankings(list(stores), queries, files, candidates)
                )
            # The vector scans run while the database answers the keyword queries.
            embedded = await self._query_vectors(stores, queries) if by_vector else {}
            by_vectors = await asyncio.gather(
                *(
                    self._vector_ranking(
                        stores,
                        {model: matrix[number] for model, matrix in embedded.items()},
                        allowed,
                        candidates,
                    )
                    for number in range(len(queries))
                )
                if by_vector
                else ()
            )
            by_keywords = await keywords if keywords is not None else []
        except BaseException:
            if keywords is not None:
                keywords.cancel()  # not wanted any more (and its failure not reported)
            raise
        rankings: list[tuple[float, list[int]]] = []
        for index in range(len(queries)):
            if by_vector:
                rankings.append((weights[0], by_vectors[index]))
            if by_keyword:
                rankings.append((weights[1], by_keywords[index]))
        scored = _fused(rankings)
        threshold = ranking.score_threshold if ranking and ranking.score_threshold else 0.0
        best = [(pk, score) for pk, score in scored if score >= threshold][:max_results]
        found = await self._files.chunks_found([pk for pk, _score in best], now)
        return [
            SearchHit(
                file_id=row.file_id,
                filename=row.filename,
                score=round(score, 6),
                text=row.text,
                attributes=loads(row.attributes),
            )
            for pk, score in best
            if (row := found.get(pk)) is not None
        ]

    async def _keyword_rankings(
        self, store_ids: list[str], queries: Sequence[str], files: list[str] | None, limit: int
    ) -> list[list[int]]:
        return list(
            await asyncio.gather(
                *(
                    self._files.keyword_hits(store_ids, query_words(query), files, limit)
                    for query in queries
                )
            )
        )

    async def _allowed_files(self, store_ids: list[str], filters: Filter | None) -> set[str] | None:
        if filters is None:
            return None
        rows = await self._files.searchable_files(store_ids)
        return {row.file_id for row in rows if filters.matches(loads(row.attributes))}

    async def _query_vectors(self, stores: dict, queries: Sequence[str]) -> dict[str, np.ndarray]:
        """Every query embedded by each model the stores use, in one call per model."""
        models = sorted({row.embedding_model for row in stores.values()})
        return {model: await self._embeddings.embed(model, list(queries)) for model in models}

    async def _vector_ranking(
        self,
        stores: dict,
        vectors: dict[str, np.ndarray],
        allowed: set[str] | None,
        candidates: int,
    ) -> list[int]:
        by_model: dict[str, list[str]] = defaultdict(list)
        for store_id, row in stores.items():
            by_model[row.embedding_model].append(store_id)
        scans: list[tuple[StoreMatrix, np.ndarray]] = []
        for model, store_ids in by_model.items():
            vector = vectors[model]
            for store_id in store_ids:
                matrix = await self._index.matrix(store_id, stores[store_id].revision)
                if len(matrix.pks) and matrix.vectors.shape[1] == vector.shape[0]:
                    scans.append((matrix, vector))
        if not scans:
            return []
        if sum(matrix.vectors.size for matrix, _vector in scans) <= INLINE_SCAN:
            return _best_by_vector(scans, allowed, candidates)
        # Off the event loop: 100k chunks are ~150 MB of vectors to read.
        return await asyncio.to_thread(_best_by_vector, scans, allowed, candidates)


def _best_by_vector(
    scans: list[tuple[StoreMatrix, np.ndarray]], allowed: set[str] | None, candidates: int
) -> list[int]:
    pks: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    for matrix, vector in scans:
        store_scores = matrix.scores(vector)
        if allowed is not None:
            keep = np.isin(matrix.file_ids, list(allowed))
            pks.append(matrix.pks[keep])
            scores.append(store_scores[keep])
        else:
            pks.append(matrix.pks)
            scores.append(store_scores)
    all_pks, all_scores = np.concatenate(pks), np.concatenate(scores)
    if len(all_scores) > candidates:
        # argpartition picks the best ``candidates`` without sorting all of them.
        top = np.argpartition(-all_scores, candidates)[:candidates]
    else:
        top = np.arange(len(all_scores))
    order = top[np.argsort(-all_scores[top], kind="stable")]
    return [int(pk) for pk in all_pks[order]]


def _weights(ranking: RankingOptions | None) -> tuple[float, float]:
    if ranking is None or ranking.hybrid_search is None:
        return 1.0, 1.0
    return ranking.hybrid_search.embedding_weight, ranking.hybrid_search.text_weight


def _fused(rankings: list[tuple[float, list[int]]]) -> list[tuple[int, float]]:
    """Chunks by fused score, best first; scores over the best possible score."""
    if not rankings:
        return []
    best_possible = sum(weight / (RRF_K + 1) for weight, _ranked in rankings)
    fused: dict[int, float] = defaultdict(float)
    for weight, ranked in rankings:
        for rank, pk in enumerate(ranked, start=1):
            fused[pk] += weight / (RRF_K + rank)
    ordered = sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))
    return [(pk, score / best_possible) for pk, score in ordered]
