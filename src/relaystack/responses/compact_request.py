"""The ``POST /v1/responses/compact`` request (``CompactResponseMethodPublicBody``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from relaystack.catalog import InputItem
from relaystack.strict import StrictModel


class CompactRequest(StrictModel):
    model: str = Field(min_length=1)
    input: str | list[InputItem] | None = None
    previous_response_id: str | None = None
    instructions: str | None = None
    # Accepted and not acted on, as on /v1/responses.
    prompt_cache_key: str | None = Field(None, max_length=64)
    prompt_cache_options: dict[str, Any] | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
    service_tier: Literal["auto", "default", "fast", "flex", "priority"] | None = None
