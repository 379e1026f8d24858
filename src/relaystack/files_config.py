"""The ``files`` section of the configuration: uploads, where their bytes live, and the
embedding model vector stores use."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from relaystack.config_model import ConfigModel

DEFAULT_EMBEDDING_MODEL = "local/multilingual-e5-small"


class FilesConfig(ConfigModel):
    # Largest upload accepted (a 413 above it); uploads are held in memory while stored.
    max_bytes: int = Field(100 * 1024 * 1024, gt=0)
    # "auto": on disk beside a SQLite database, in the database on PostgreSQL (so every
    # replica sees them); "disk" or "database" to choose.
    blobs: Literal["auto", "disk", "database"] = "auto"
    # Where "disk" keeps them; default: "<database file>.files" beside the SQLite file.
    directory: str | None = None
    # The model new vector stores embed with (a public id: provider/model).
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    # How often each replica deletes files past their expires_after (reads already
    # treat them as gone; the sweep deletes their chunks and bytes).
    expiry_sweep_seconds: float = Field(60.0, gt=0)
