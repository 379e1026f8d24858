"""Search failures as ``ApiError``s: what went wrong with which backend, never a secret.

The client of relaystack did nothing wrong when a search backend fails, so these are
5xx (a 502, or a 504 for a timeout) except a rate limit, which stays a 429 so clients
know to retry later. Messages name the backend and its address (without any
``user:password@``), never an API key. ``no_backend`` is the one client-facing 400: a
request offering ``web_search`` to a server without a backend.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit, urlunsplit

from relaystack.errors import ApiError, InvalidRequest


class SearchError(ApiError):
    status_code = 502
    error_type = "server_error"


def display_url(url: str) -> str:
    """``url`` without credentials, query or fragment: safe to put in a message."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, bare_netloc(parts), parts.path, "", ""))


def bare_netloc(parts: SplitResult) -> str:
    """The host and port of a split url, without ``user:password@``."""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    return f"{host}:{parts.port}" if parts.port is not None else host


def unreachable(backend: str, url: str, detail: str) -> SearchError:
    return SearchError(
        f"The {backend} search backend at {display_url(url)} could not be reached: {detail}",
        code="search_backend_unreachable",
    )


def timed_out(backend: str, url: str, seconds: float) -> SearchError:
    return SearchError(
        f"The {backend} search backend at {display_url(url)} did not answer within {seconds:g} s.",
        code="search_backend_timeout",
        status_code=504,
    )


def key_rejected(backend: str, status: int, where: str) -> SearchError:
    """The configured API key was refused; ``where`` says where the key is configured."""
    return SearchError(
        f"The {backend} search backend refused the configured API key (HTTP {status}); "
        f"check {where}.",
        code="search_backend_auth",
    )


def rate_limited(backend: str, detail: str) -> SearchError:
    return SearchError(
        f"The {backend} search backend is rate limiting requests: {detail}",
        code="search_rate_limited",
        status_code=429,
        error_type="requests",
    )


def failed(backend: str, status: int, detail: str) -> SearchError:
    return SearchError(
        f"The {backend} search backend answered HTTP {status}: {detail}",
        code="search_backend_error",
    )


def bad_answer(backend: str, detail: str) -> SearchError:
    return SearchError(
        f"The {backend} search backend sent an answer relaystack cannot read: {detail}",
        code="search_backend_bad_response",
    )


def no_backend(tool_index: int) -> InvalidRequest:
    """A request offers ``web_search`` but the server has no search backend: a 400."""
    return InvalidRequest(
        "The web_search tool is not available: this server has no search backend "
        "configured (tools.web_search.backend).",
        param=f"tools[{tool_index}]",
        code="web_search_not_configured",
    )
