"""Sending one request to a search API and reading its JSON, with failures classified.

The ``httpx.AsyncClient`` always comes from outside (so the recording transport can sit
under it); this module only turns what can go wrong on the wire into ``SearchError``s
and pulls a readable message out of whatever error body an API sends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import aiohttp
import httpx

from relaystack.search import errors
from relaystack.search.base import SearchResult
from relaystack.search.domains import keep_allowed
from relaystack.wire import json as wire_json

_MAX_DETAIL = 300  # characters of a backend's own error message kept in ours


async def post(
    client: httpx.AsyncClient, url: str, *, backend: str, timeout: float, **request: Any
) -> httpx.Response:
    """POST and read the whole answer; connection trouble becomes a 502/504."""
    try:
        return await client.post(url, timeout=timeout, **request)
    except httpx.HTTPError as exc:
        if _timed_out(exc):
            raise errors.timed_out(backend, url, timeout) from exc
        raise errors.unreachable(backend, url, _describe(exc)) from exc


def json_object(response: httpx.Response, backend: str) -> dict[str, Any]:
    try:
        data = wire_json.loads(response.content)
    except ValueError as exc:
        excerpt = response.text[:80].strip() or "an empty body"
        raise errors.bad_answer(backend, f"not JSON ({excerpt!r})") from exc
    if not isinstance(data, dict):
        raise errors.bad_answer(backend, f"a JSON {type(data).__name__}, not an object")
    return data


def result_list(data: dict[str, Any], backend: str) -> list[SearchResult]:
    """``data["results"]`` as results: SearXNG and Tavily both name the fields
    ``url``, ``title`` and ``content``. Entries without a url (infoboxes) are skipped."""
    found = data.get("results")
    if not isinstance(found, list):
        raise errors.bad_answer(backend, "no 'results' list in the JSON answer")
    results = []
    for entry in found:
        if isinstance(entry, dict) and isinstance(entry.get("url"), str):
            url, title, content = entry["url"], _text(entry, "title"), _text(entry, "content")
            results.append(SearchResult(url=url, title=title or url, content=content))
    return results


def allowed_results(
    response: httpx.Response, backend: str, allowed_domains: Sequence[str], max_results: int
) -> list[SearchResult]:
    """A backend's JSON answer as results: only allowed domains (checked here too, also
    where the API filters), at most ``max_results``."""
    results = result_list(json_object(response, backend), backend)
    return keep_allowed(results, allowed_domains)[:max_results]


def _text(entry: dict[str, Any], field: str) -> str:
    value = entry.get(field)
    return value if isinstance(value, str) else ""


def error_detail(response: httpx.Response) -> str:
    """The API's own words: ``{"error": {"message"}}``, ``{"detail": {"error"}}``, text."""
    try:
        data: Any = wire_json.loads(response.content)
    except ValueError:
        data = response.text
    for path in (("error", "message"), ("detail", "error"), ("detail",), ("error",), ("message",)):
        found = data
        for key in path:
            found = found.get(key) if isinstance(found, dict) else None
        if isinstance(found, str) and found.strip():
            return _clip(found)
    if isinstance(data, str) and data.strip():
        return _clip(data)
    return response.reason_phrase or "no details given"


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL] + "..."


def _timed_out(exc: httpx.HTTPError) -> bool:
    # The aiohttp-backed transport reports its own errors as the cause, coarsely mapped.
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ClientConnectorError):
        return False
    if isinstance(cause, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return True
    return isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout)


def _describe(exc: httpx.HTTPError) -> str:
    detail = str(exc.__cause__ or exc) or type(exc).__name__
    return _clip(detail)
