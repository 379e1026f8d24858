"""The retrieval engine's parts, built once from the configuration (``app.py`` calls this)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from relaystack.config import Config, sqlite_path
from relaystack.ids import Clock, IdSource
from relaystack.inference.registry import ModelRegistry
from relaystack.retrieval.embedding import Embeddings
from relaystack.retrieval.expiry import ExpirySweeper
from relaystack.retrieval.files_service import FilesService
from relaystack.retrieval.ingest import Ingestor
from relaystack.retrieval.search import Retriever
from relaystack.retrieval.stores_service import VectorStoresService
from relaystack.store.blobs import DiskBlobs
from relaystack.store.files_base import FileStore
from relaystack.store.files_store import SqlFileStore
from relaystack.store.runners import Runner


@dataclass
class Retrieval:
    files: FilesService
    vector_stores: VectorStoresService
    retriever: Retriever
    ingestor: Ingestor
    store: FileStore
    sweeper: ExpirySweeper

    async def start(self, stack: contextlib.AsyncExitStack) -> None:
        """Start ingesting (files left in progress first) and sweeping expired files;
        both stop when ``stack`` closes."""
        await self.ingestor.start()
        stack.push_async_callback(self.ingestor.close)
        self.sweeper.start()
        stack.push_async_callback(self.sweeper.close)


def blob_directory(config: Config) -> Path | None:
    """Where file bytes go on disk, or None when they go into the database."""
    files = config.files
    database = sqlite_path(config.storage.url)
    if files.blobs == "database" or (files.blobs == "auto" and database is None):
        return None
    if files.directory:
        return Path(files.directory).expanduser()
    if database is None:
        raise ValueError("files.blobs is 'disk': set files.directory")
    return database.with_name(database.name + ".files")


def build_retrieval(
    config: Config, runner: Runner, models: ModelRegistry, ids: IdSource, clock: Clock
) -> Retrieval:
    directory = blob_directory(config)
    store = SqlFileStore(runner, DiskBlobs(directory) if directory is not None else None)
    embeddings = Embeddings(models)
    ingestor = Ingestor(store, embeddings, clock)
    retriever = Retriever(store, embeddings, clock=clock)
    return Retrieval(
        files=FilesService(store, config.files.max_bytes, ids=ids, clock=clock),
        vector_stores=VectorStoresService(
            store, ingestor, retriever, config.files.embedding_model, ids=ids, clock=clock
        ),
        retriever=retriever,
        ingestor=ingestor,
        store=store,
        sweeper=ExpirySweeper(store, clock, config.files.expiry_sweep_seconds),
    )
