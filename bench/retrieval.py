"""Retrieval quality and speed of vector stores, measured in-process.

``python -m bench.retrieval`` runs the retrieval engine (``relaystack.retrieval``) on a
temporary SQLite database, the way the server runs it:

- **Quality**: the labelled set of ``bench.retrieval_set`` (standard-library docstrings:
  a summary line is the query, the rest of its docstring the one relevant document),
  each document a file in one vector store, embedded with the embedded
  ``multilingual-e5-small``. Recall@5 and MRR (of the relevant document, within the
  first 10) for vector-only, keyword-only and hybrid ranking.
- **Ingest**: chunks per second through the whole pipeline (read, chunk, embed with
  e5, store), and the same with an instant embedder to show what is not the model.
- **Search speed**: p50/p99 of a search of a store of 10k and 100k chunks (random
  unit vectors, texts of random dictionary words), the query's embedding given, so
  the figure is the engine's own (the e5 query embedding is timed on its own line).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.retrieval_set import Example, build_set
from relaystack.config import parse_config
from relaystack.inference.provider_type import ProviderContext
from relaystack.inference.providers import provider_type
from relaystack.inference.registry import ModelRegistry
from relaystack.retrieval.chunking import stored_strategy
from relaystack.retrieval.embedding import Embeddings
from relaystack.retrieval.ingest import Ingestor, Job
from relaystack.retrieval.search import Retriever
from relaystack.store.blobs import DiskBlobs
from relaystack.store.files_store import SqlFileStore
from relaystack.store.sql import SqlStore

E5 = "local/multilingual-e5-small"
DIMENSIONS = 384
OWNER = "bench"


async def _registry() -> ModelRegistry:
    config = parse_config({"providers": [{"id": "local", "type": "local"}]})
    registry = ModelRegistry()
    provider_config = config.providers[0]
    context = ProviderContext(upstream_transport=lambda _url: None)
    await registry.add_provider(provider_type("local").build(provider_config, context))
    return registry


class GivenEmbeddings(Embeddings):
    """Vectors without a model: random unit vectors (for speed figures only)."""

    def __init__(self, seed: int = 7) -> None:
        self._random = np.random.default_rng(seed)

    async def embed(self, model_id: str, texts: list[str]) -> np.ndarray:
        vectors = self._random.standard_normal((len(texts), DIMENSIONS)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class RememberedEmbeddings(Embeddings):
    """The model's embeddings, each text embedded once: the three rankings compared
    ask for the same queries, and e5 takes about a second a text on a loaded machine."""

    def __init__(self, registry: ModelRegistry) -> None:
        super().__init__(registry)
        self._kept: dict[tuple[str, str], np.ndarray] = {}

    async def embed(self, model_id: str, texts: list[str]) -> np.ndarray:
        missing = [text for text in texts if (model_id, text) not in self._kept]
        if missing:
            for text, vector in zip(missing, await super().embed(model_id, missing), strict=True):
                self._kept[(model_id, text)] = vector
        return np.stack([self._kept[(model_id, text)] for text in texts])


async def _open(workdir: Path) -> tuple[SqlStore, SqlFileStore]:
    store = await SqlStore.open(f"sqlite:///{workdir / 'bench.db'}")
    return store, SqlFileStore(store.runner, DiskBlobs(workdir / "files"))


async def _new_store(files: SqlFileStore, store_id: str, model: str) -> None:
    row = {
        "id": store_id,
        "owner": OWNER,
        "created_at": 0,
        "last_active_at": 0,
        "name": store_id,
        "metadata": "{}",
        "embedding_model": model,
    }
    await files.create_store(row, 0)


async def _ingest(
    files: SqlFileStore, ingestor: Ingestor, store_id: str, documents: list[tuple[str, str]]
) -> float:
    """Upload and ingest ``(name, text)`` documents; seconds the ingestion took."""
    strategy = stored_strategy(None)
    rows = []
    for index, (_name, text) in enumerate(documents):
        file_id = f"file-{store_id}-{index}"
        row = {
            "id": file_id,
            "owner": OWNER,
            "created_at": 0,
            "expires_at": None,
            "filename": f"{index}.txt",
            "purpose": "assistants",
            "bytes": len(text.encode()),
        }
        await files.save_file(row, text.encode())
        rows.append({"file_id": file_id, "attributes": {}, "chunking_strategy": strategy})
    await files.add_store_files(store_id, OWNER, rows, 0)
    started = time.perf_counter()
    for row in rows:
        await ingestor.ingest(Job(store_id, row["file_id"], OWNER, strategy))
    return time.perf_counter() - started


# ----- quality -----------------------------------------------------------------------


async def quality(
    examples: list[Example], registry: ModelRegistry, workdir: Path, per_file: int = 1
) -> dict:
    """``per_file`` > 1 joins that many documents into each file, so chunks are full
    (800 tokens, longer than e5 reads) and the relevant file is the one holding the
    example's document."""
    store, files = await _open(workdir)
    try:
        embeddings = RememberedEmbeddings(registry)
        ingestor = Ingestor(files, embeddings)
        await _new_store(files, "vs_quality", E5)
        groups = [examples[start : start + per_file] for start in range(0, len(examples), per_file)]
        documents = [(g[0].name, "\n\n".join(e.document for e in g)) for g in groups]
        seconds = await _ingest(files, ingestor, "vs_quality", documents)
        chunks = len(await files.store_vectors("vs_quality"))
        wanted = {f"file-vs_quality-{index}": index for index in range(len(groups))}
        scores: dict[str, dict[str, float]] = {}
        for mode in ("vector", "keyword", "hybrid"):
            retriever = Retriever(files, embeddings, mode=mode)  # type: ignore[arg-type]
            ranks = []
            for index, example in enumerate(examples):
                hits = await retriever.search(
                    OWNER, ["vs_quality"], [example.query], max_results=10
                )
                order = list(dict.fromkeys(wanted.get(hit.file_id) for hit in hits))
                group = index // per_file
                ranks.append(order.index(group) + 1 if group in order else None)
            scores[mode] = {
                "recall@5": sum(1 for r in ranks if r is not None and r <= 5) / len(ranks),
                "mrr@10": sum(1 / r for r in ranks if r is not None) / len(ranks),
            }
        return {
            "examples": len(examples),
            "chunks": chunks,
            "ingest_s": seconds,
            "per_file": per_file,
            "scores": scores,
        }
    finally:
        await store.close()


# ----- speed -------------------------------------------------------------------------


def _texts(count: int, seed: int) -> list[str]:
    words = [e.query.split()[0].lower() for e in build_set()] + [
        word for e in build_set()[:200] for word in e.document.split()[:40]
    ]
    pick = random.Random(seed)
    return [" ".join(pick.choices(words, k=60)) for _ in range(count)]


async def search_speed(chunks: int, searches: int, workdir: Path) -> dict[str, Any]:
    store, files = await _open(workdir)
    try:
        given = GivenEmbeddings()
        await _new_store(files, "vs_speed", "given")
        row = {
            "id": "file-speed",
            "owner": OWNER,
            "created_at": 0,
            "expires_at": None,
            "filename": "speed.txt",
            "purpose": "assistants",
            "bytes": 1,
        }
        await files.save_file(row, b"x")
        strategy = stored_strategy(None)
        rows = [{"file_id": "file-speed", "attributes": {}, "chunking_strategy": strategy}]
        await files.add_store_files("vs_speed", OWNER, rows, 0)
        texts = _texts(chunks, seed=chunks)
        vectors = await given.embed("given", texts)
        started = time.perf_counter()
        stored = [(t, v.astype("<f4").tobytes()) for t, v in zip(texts, vectors, strict=True)]
        await files.store_chunks("vs_speed", "file-speed", stored, 0)
        insert_s = time.perf_counter() - started
        queries = _texts(searches, seed=1)
        retriever = Retriever(files, given)
        await retriever.search(OWNER, ["vs_speed"], [queries[0]], max_results=10)  # loads
        times = []
        for query in queries:
            started = time.perf_counter()
            await retriever.search(
                OWNER, ["vs_speed"], [" ".join(query.split()[:6])], max_results=10
            )
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        return {
            "chunks": chunks,
            "store_chunks_per_s": chunks / insert_s,
            "p50_ms": statistics.median(times),
            "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
        }
    finally:
        await store.close()


async def ingest_speed(
    registry: ModelRegistry, documents: int, workdir: Path, per_file: int = 1
) -> dict:
    examples = build_set()[: documents * per_file]
    texts = [
        (examples[start].name, "\n\n".join(e.document for e in examples[start : start + per_file]))
        for start in range(0, len(examples), per_file)
    ]
    results = {}
    for label, embeddings in (("e5", Embeddings(registry)), ("instant", GivenEmbeddings())):
        store, files = await _open(workdir / label)
        try:
            model = E5 if label == "e5" else "given"
            await _new_store(files, "vs_ingest", model)
            # CPU seconds of every thread too: wall-clock moves with the machine's load.
            cpu = time.process_time()
            seconds = await _ingest(files, Ingestor(files, embeddings), "vs_ingest", texts)
            cpu = time.process_time() - cpu
            chunks = len(await files.store_vectors("vs_ingest"))
            results[label] = {
                "chunks": chunks,
                "chunks_per_s": chunks / seconds,
                "chunks_per_cpu_s": chunks / cpu,
            }
        finally:
            await store.close()
    model = registry.resolve(E5)
    started = time.perf_counter()
    for query in ("where is the config file", "parse a date", "compress data"):
        await model.provider.embeddings({"model": model.upstream_id, "input": [query]})
    results["e5_query_embedding_ms"] = (time.perf_counter() - started) / 3 * 1000
    return results


def _report(quality_result: dict | None, ingest: dict | None, speeds: list[dict]) -> str:
    lines = []
    if quality_result:
        lines += [
            f"Quality: {quality_result['examples']} queries, one relevant document each "
            f"({quality_result['per_file']} a file, {quality_result['chunks']} chunks, "
            f"ingested in {quality_result['ingest_s']:.0f} s), multilingual-e5-small",
            "",
            "| ranking | recall@5 | MRR@10 |",
            "| --- | --- | --- |",
        ]
        for mode, score in quality_result["scores"].items():
            lines.append(f"| {mode} | {score['recall@5']:.3f} | {score['mrr@10']:.3f} |")
        lines.append("")
    if ingest:
        lines += [
            f"Ingest: {ingest['e5']['chunks_per_s']:.1f} chunks/s with e5 "
            f"({ingest['e5']['chunks_per_cpu_s']:.2f} a CPU-second), "
            f"{ingest['instant']['chunks_per_s']:.0f} chunks/s with an instant embedder "
            f"({ingest['e5']['chunks']} chunks); one e5 query embedding "
            f"{ingest['e5_query_embedding_ms']:.0f} ms",
            "",
        ]
    if speeds:
        lines += [
            "| chunks | search p50 | search p99 | storing chunks/s |",
            "| --- | --- | --- | --- |",
        ]
        for speed in speeds:
            lines.append(
                f"| {speed['chunks']} | {speed['p50_ms']:.1f} ms | {speed['p99_ms']:.1f} ms "
                f"| {speed['store_chunks_per_s']:.0f} |"
            )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        registry = await _registry()
        try:
            quality_result = None
            if args.examples:
                examples = build_set()
                step = max(1, len(examples) // args.examples)
                quality_result = await quality(
                    examples[::step][: args.examples], registry, workdir / "q", args.per_file
                )
            ingest = (
                await ingest_speed(registry, args.ingest_documents, workdir / "i", args.per_file)
                if args.ingest_documents
                else None
            )
            speeds = [
                await search_speed(size, args.searches, workdir / f"s{size}") for size in args.sizes
            ]
        finally:
            await registry.aclose()
    return _report(quality_result, ingest, speeds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.retrieval", description=__doc__)
    parser.add_argument("--examples", type=int, default=120, help="labelled queries (0: skip)")
    parser.add_argument("--per-file", type=int, default=1, help="documents joined into each file")
    parser.add_argument("--ingest-documents", type=int, default=20, help="files; 0: skip")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--searches", type=int, default=200)
    args = parser.parse_args(argv)
    print(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
