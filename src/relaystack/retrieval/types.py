"""Request bodies of ``/v1/vector_stores`` and its sub-resources, as OpenAI documents them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

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


def check_distinct_files(file_ids: list[str]) -> None:
    """The limit counts files: one named twice is one (it is added once)."""
    if len(set(file_ids)) > MAX_FILE_IDS:
        raise ValueError(f"at most {MAX_FILE_IDS} distinct files may be added in one call")


class CreateVectorStoreRequest(StrictModel):
    name: str | None = None
    description: str | None = None
    file_ids: list[str] | None = None
    chunking_strategy: ChunkingStrategy | None = Field(None, discriminator="type")
    metadata: dict[str, str] | None = None
    expires_after: ExpiresAfter | None = None

    _metadata = field_validator("metadata")(check_metadata)

    @model_validator(mode="after")
    def _distinct(self) -> CreateVectorStoreRequest:
        check_distinct_files(self.file_ids or [])
        return self


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
    file_ids: list[str] | None = None
    files: list[CreateStoreFileRequest] | None = None
    attributes: Attributes | None = None
    chunking_strategy: ChunkingStrategy | None = Field(None, discriminator="type")

    _attributes = field_validator("attributes")(check_attributes)

    @model_validator(mode="after")
    def _distinct(self) -> CreateBatchRequest:
        check_distinct_files((self.file_ids or []) + [item.file_id for item in self.files or []])
        return self


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
