"""Request bodies of ``/v1/vector_stores`` and its sub-resources, as OpenAI documents them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from relaystack.retrieval.chunking import ChunkingStrategy
from relaystack.strict import StrictModel, check_metadata
from relaystack.tools.file_search_types import Filter, RankingOptions

MAX_FILE_IDS = 500  # OpenAI's limit for one create or batch call


def check_attributes(value: dict[str, str | float | bool] | None) -> dict | None:
    """16 pairs, keys up to 64 characters, string values up to 512 (OpenAI's limits)."""
    if value is None:
        return value
    if len(value) > 16:
        raise ValueError("attributes can hold at most 16 key-value pairs")
    for key, item in value.items():
        if len(key) > 64:
            raise ValueError(f"attribute key {key[:20]!r}... is longer than 64 characters")
        if isinstance(item, str) and len(item) > 512:
            raise ValueError(f"attribute value for {key!r} is longer than 512 characters")
    return value


class ExpiresAfter(StrictModel):
    anchor: Literal["last_active_at"]
    days: int = Field(ge=1, le=365)


class CreateVectorStoreRequest(StrictModel):
    name: str | None = None
    description: str | None = None
    file_ids: list[str] | None = Field(None, max_length=MAX_FILE_IDS)
    chunking_strategy: ChunkingStrategy | None = Field(None, discriminator="type")
    metadata: dict[str, str] | None = None
    expires_after: ExpiresAfter | None = None

    _metadata = field_validator("metadata")(check_metadata)


class UpdateVectorStoreRequest(StrictModel):
    name: str | None = None
    metadata: dict[str, str] | None = None
    expires_after: ExpiresAfter | None = None

    _metadata = field_validator("metadata")(check_metadata)


Attributes = dict[str, str | float | bool]


class CreateStoreFileRequest(StrictModel):
    file_id: str
    attributes: Attributes | None = None
    chunking_strategy: ChunkingStrategy | None = Field(None, discriminator="type")

    _attributes = field_validator("attributes")(check_attributes)


class UpdateStoreFileRequest(StrictModel):
    attributes: Attributes | None

    _attributes = field_validator("attributes")(check_attributes)


class CreateBatchRequest(StrictModel):
    file_ids: list[str] | None = Field(None, max_length=MAX_FILE_IDS)
    files: list[CreateStoreFileRequest] | None = Field(None, max_length=MAX_FILE_IDS)
    attributes: Attributes | None = None
    chunking_strategy: ChunkingStrategy | None = Field(None, discriminator="type")

    _attributes = field_validator("attributes")(check_attributes)


class SearchRequest(StrictModel):
    query: str | list[str]
    filters: Filter | None = None
    max_num_results: int = Field(10, ge=1, le=50)
    ranking_options: RankingOptions | None = None
    rewrite_query: bool = False

    @field_validator("query")
    @classmethod
    def _queries(cls, value: str | list[str]) -> str | list[str]:
        queries = [value] if isinstance(value, str) else value
        if not queries or not all(query.strip() for query in queries):
            raise ValueError("query must be a non-empty string or a list of them")
        return value
