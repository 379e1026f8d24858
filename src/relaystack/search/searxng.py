"""SearXNG, the self-hosted metasearch engine, through its JSON search API.

``POST {base_url}/search`` with the form fields ``q`` and ``format=json`` (SearXNG reads
``/search`` parameters from the query string or the form alike). We POST so the query
travels in the body: the recording key covers the body but not the query string, so
two searches in one test are told apart by what they asked, not only by their order.

The answer: ``{"query", "number_of_results", "results": [{"url", "title", "content",
"engine", "score", ...}], "answers", "suggestions", "unresponsive_engines", ...}``.
A 403 means the instance does not serve JSON (``search.formats`` in its
``settings.yml`` must list ``json``); a 429 is its bot limiter.

SearXNG has no domain parameter. With one allowed domain the query gets
``site:<domain>`` (understood by the engines SearXNG queries by default); with several
only the results are filtered. It has no location parameter either: ``language`` comes
from the configuration, and ``user_location`` is not used. An instance behind HTTP basic
auth is configured as ``http://user:password@host``.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from relaystack.search import errors
from relaystack.search.base import DEFAULT_CONTEXT_SIZE, ContextSize, SearchResult, UserLocation
from relaystack.search.http import allowed_results, error_detail, post


class SearxngBackend:
    name = "SearXNG"

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        categories: Sequence[str] = (),
        engines: Sequence[str] = (),
        language: str | None = None,
        safesearch: int | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._client = client
        self._url, self._auth = _split_credentials(base_url.rstrip("/") + "/search")
        self._options: dict[str, str] = {}
        if categories:
            self._options["categories"] = ",".join(categories)
        if engines:
            self._options["engines"] = ",".join(engines)
        if language:
            self._options["language"] = language
        if safesearch is not None:
            self._options["safesearch"] = str(safesearch)
        self._timeout = timeout

    async def search(
        self,
        query: str,
        *,
        max_results: int,
        allowed_domains: Sequence[str] = (),
        user_location: UserLocation | None = None,
        context_size: ContextSize = DEFAULT_CONTEXT_SIZE,
    ) -> list[SearchResult]:
        form = {"q": _scoped(query, allowed_domains), "format": "json", **self._options}
        response = await post(
            self._client,
            self._url,
            backend=self.name,
            timeout=self._timeout,
            data=form,
            auth=self._auth,
        )
        self._check(response)
        return allowed_results(response, self.name, allowed_domains, max_results)

    def _check(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        if status == 403:
            raise errors.failed(
                self.name,
                status,
                "the instance refuses format=json; list json under search.formats "
                "in its settings.yml",
            )
        if status == 429:
            raise errors.rate_limited(self.name, error_detail(response))
        raise errors.failed(self.name, status, error_detail(response))


def _split_credentials(url: str) -> tuple[str, httpx.BasicAuth | None]:
    """An instance behind basic auth (``http://user:pass@host``) gets the credentials as
    ``auth``: left in the url, the aiohttp transport refuses them beside the header
    httpx derives from them."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    auth = httpx.BasicAuth(unquote(parts.username), unquote(parts.password or ""))
    return urlunsplit(parts._replace(netloc=errors.bare_netloc(parts))), auth


def _scoped(query: str, allowed_domains: Sequence[str]) -> str:
    if len(allowed_domains) == 1:
        return f"{query} site:{allowed_domains[0]}"
    return query
