"""The ``POST /v1/responses/compact`` request (``CompactResponseMethodPublicBody``)."""

from __future__ import annotations

from pydantic import Field

from relaystack.catalog import InputItem
from relaystack.strict import StrictModel


class CompactRequest(StrictModel):
    model: str = Field(min_length=1)
    input: str | list[InputItem] | None = None
    previous_response_id: str | None = None
    instructions: str | None = None
    prompt_cache_key: str | None = Field(None, max_length=64)
