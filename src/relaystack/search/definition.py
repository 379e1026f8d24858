"""The ``web_search`` tool as a request names it, ready for ``tools/web_search.py``.

``{"type": "web_search" | "web_search_preview" (and their dated names),
"filters": {"allowed_domains": [...]}, "user_location": {"type": "approximate", "city",
"region", "country", "timezone"}, "search_context_size": "low" | "medium" | "high",
"external_web_access": bool}``, as OpenAI documents it. ``allowed_domains`` is
normalised to bare lower-case hosts here, so backends only compare strings.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from relaystack.search.base import DEFAULT_CONTEXT_SIZE, ContextSize, UserLocation
from relaystack.search.domains import normalize_domain
from relaystack.strict import StrictModel

WebSearchType = Literal[
    "web_search",
    "web_search_2025_08_26",
    "web_search_preview",
    "web_search_preview_2025_03_11",
]
MAX_ALLOWED_DOMAINS = 100  # OpenAI's documented limit


class ApproximateLocation(StrictModel):
    type: Literal["approximate"] = "approximate"
    city: str | None = None
    region: str | None = None
    country: str | None = Field(None, pattern=r"^[A-Za-z]{2}$")
    timezone: str | None = None

    def location(self) -> UserLocation:
        country = self.country.upper() if self.country else None
        return UserLocation(self.city, self.region, country, self.timezone)


class WebSearchFilters(StrictModel):
    allowed_domains: list[str] | None = Field(None, max_length=MAX_ALLOWED_DOMAINS)

    @field_validator("allowed_domains")
    @classmethod
    def _hosts(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return list(dict.fromkeys(normalize_domain(domain) for domain in value))


class WebSearchDefinition(StrictModel):
    type: WebSearchType
    filters: WebSearchFilters | None = None
    user_location: ApproximateLocation | None = None
    search_context_size: ContextSize | None = None
    external_web_access: bool | None = None

    @property
    def allowed_domains(self) -> list[str]:
        return list(self.filters.allowed_domains or []) if self.filters else []

    @property
    def context_size(self) -> ContextSize:
        return self.search_context_size or DEFAULT_CONTEXT_SIZE

    @property
    def goes_online(self) -> bool:
        """False only for ``external_web_access: false``: then the offline backend answers."""
        return self.external_web_access is not False
