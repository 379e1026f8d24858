"""Tavily, a hosted search API made for models, through ``POST {base_url}/search``.

The request is JSON: ``{"query", "max_results" (0-20), "search_depth" ("basic" or
"advanced"), "topic", "include_domains"}`` with the key in ``Authorization: Bearer``.
The key never goes in the body (Tavily accepts ``api_key`` there too): bodies are
written into recordings, headers never are. The answer: ``{"query", "results": [{"title",
"url", "content", "score", ...}], "response_time", ...}``; errors carry
``{"detail": {"error": "..."}}`` with 401 (bad key), 429 (rate limit), 432/433 (plan
or spending limit reached), 400 and 5xx.

``allowed_domains`` goes in ``include_domains`` and is checked on the results too;
``search_context_size: high`` asks for the ``advanced`` depth (two credits a search, and
longer snippets), anything else ``basic``. Tavily's ``country`` wants an English
country name rather than OpenAI's ISO code, so ``user_location`` is not sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import httpx

from relaystack.search import errors
from relaystack.search.base import DEFAULT_CONTEXT_SIZE, ContextSize, SearchResult, UserLocation
from relaystack.search.http import allowed_results, error_detail, post

TAVILY_URL = "https://api.tavily.com"
MAX_RESULTS = 20  # Tavily's own limit
_LIMIT_REACHED = {432, 433}  # plan limit, pay-as-you-go limit

Topic = Literal["general", "news", "finance"]


class TavilyBackend:
    name = "Tavily"

    def __init__(
        self,
        client: httpx.AsyncClient,
        api_key: str,
        *,
        base_url: str = TAVILY_URL,
        topic: Topic = "general",
        timeout: float = 15.0,
        key_source: str = "the Tavily API key",
    ) -> None:
        self._client = client
        self._url = base_url.rstrip("/") + "/search"
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._topic = topic
        self._timeout = timeout
        self._key_source = key_source  # named in messages, e.g. "TAVILY_API_KEY"

    def __repr__(self) -> str:
        return f"TavilyBackend(url={self._url!r})"  # never the key

    async def search(
        self,
        query: str,
        *,
        max_results: int,
        allowed_domains: Sequence[str] = (),
        user_location: UserLocation | None = None,
        context_size: ContextSize = DEFAULT_CONTEXT_SIZE,
    ) -> list[SearchResult]:
        body: dict[str, Any] = {
            "query": query,
            "max_results": max(0, min(max_results, MAX_RESULTS)),
            "search_depth": "advanced" if context_size == "high" else "basic",
            "topic": self._topic,
        }
        if allowed_domains:
            body["include_domains"] = list(allowed_domains)
        response = await post(
            self._client,
            self._url,
            backend=self.name,
            timeout=self._timeout,
            json=body,
            headers=self._headers,
        )
        self._check(response)
        return allowed_results(response, self.name, allowed_domains, max_results)

    def _check(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        if status in (401, 403):
            raise errors.key_rejected(self.name, status, self._key_source)
        if status == 429:
            raise errors.rate_limited(self.name, error_detail(response))
        if status in _LIMIT_REACHED:
            raise errors.failed(
                self.name, status, f"the account's usage limit is reached: {error_detail(response)}"
            )
        raise errors.failed(self.name, status, error_detail(response))
