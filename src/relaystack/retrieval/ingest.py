"""Ingestion off the request path: a file added to a store is read, cut into chunks and
embedded by a background worker, then its chunks are stored in one transaction.

Adding a file only writes its row (``in_progress``) and queues it; the worker takes
files one at a time (the machine's cores are the model's), so a burst of uploads never
slows the requests being answered. A file that cannot be read ends ``failed`` with a
``last_error`` saying why; files left ``in_progress`` by a stopped server are queued
again at start-up (storing chunks is idempotent: they replace the file's old ones).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from relaystack.errors import ApiError
from relaystack.ids import Clock
from relaystack.retrieval.chunking import chunk_text
from relaystack.retrieval.embedding import Embeddings
from relaystack.retrieval.extract import ExtractionError, extract_text
from relaystack.store.files_base import FileStore
from relaystack.wire.json import loads

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    store_id: str
    file_id: str
    owner: str
    chunking: dict  # the stored strategy: {"type": "static", "static": {...}}


class Ingestor:
    def __init__(
        self, files: FileStore, embeddings: Embeddings, clock: Clock | None = None
    ) -> None:
        self._files = files
        self._embeddings = embeddings
        self._clock = clock or Clock()
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._work(), name="relaystack-ingest")
        for row in await self._files.pending_files():
            self.enqueue(
                Job(row.vector_store_id, row.file_id, row.owner, loads(row.chunking_strategy))
            )

    def enqueue(self, job: Job) -> None:
        self._queue.put_nowait(job)

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self.ingest(job)
            except Exception:  # the worker must outlive any one file
                log.exception("ingesting %s into %s failed", job.file_id, job.store_id)
                await self._mark_failed(job)

    async def _mark_failed(self, job: Job) -> None:
        """The file's status says it failed; if even that cannot be written (the store
        is unreachable), the file stays ``in_progress`` and is taken up again at the
        next start, and this worker goes on with the next file."""
        try:
            await self._files.fail_file(
                job.store_id, job.file_id, "server_error", "The file could not be processed."
            )
        except Exception:
            log.exception("could not mark %s failed in %s", job.file_id, job.store_id)

    async def ingest(self, job: Job) -> None:
        settings = await self._files.store_settings(job.store_id, job.owner)
        if settings is None:
            return  # the store was deleted meanwhile
        found = await self._files.file_content(job.file_id, job.owner, self._clock.seconds())
        if found is None:
            await self._fail(job, "file_not_found", f"The file '{job.file_id}' no longer exists.")
            return
        file, content = found
        sizes = job.chunking["static"]
        try:
            text = await asyncio.to_thread(extract_text, file["filename"], content)
        except ExtractionError as error:
            await self._fail(job, error.code, error.message)
            return
        chunks = await asyncio.to_thread(
            chunk_text, text, sizes["max_chunk_size_tokens"], sizes["chunk_overlap_tokens"]
        )
        try:
            vectors = await self._embeddings.embed(settings.embedding_model, chunks)
        except ApiError as error:
            await self._fail(
                job,
                "server_error",
                f"Embedding with '{settings.embedding_model}' failed: {error.message}",
            )
            return
        rows = [
            (chunk, vector.astype("<f4").tobytes())
            for chunk, vector in zip(chunks, vectors, strict=True)
        ]
        usage = sum(len(chunk.encode()) for chunk in chunks) + vectors.nbytes
        await self._files.store_chunks(job.store_id, job.file_id, rows, usage)

    async def _fail(self, job: Job, code: str, message: str) -> None:
        await self._files.fail_file(job.store_id, job.file_id, code, message)
