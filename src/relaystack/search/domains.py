"""``allowed_domains``: normalising what clients send and checking result urls.

OpenAI: "Subdomains of the provided domains are allowed as well", so ``example.com``
allows ``docs.example.com`` but not ``badexample.com``. Clients send bare host names;
a scheme, path, port, ``www.``-less or trailing-dot spelling is tolerated by taking
the host out of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from relaystack.search.base import SearchResult

_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9-]{1,63}$")


def normalize_domain(value: str) -> str:
    """``"https://Docs.Example.com/x"`` -> ``"docs.example.com"``; ValueError if not a host."""
    text = value.strip()
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    host = host.rstrip(".").lower()
    if not _HOST.match(host):
        raise ValueError(f"{value!r} is not a domain name (expected e.g. 'example.com')")
    return host


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


def domain_allowed(url: str, allowed_domains: Sequence[str]) -> bool:
    """True when there is no restriction or ``url``'s host is, or is under, one of them."""
    if not allowed_domains:
        return True
    host = host_of(url)
    return bool(host) and any(host == d or host.endswith("." + d) for d in allowed_domains)


def keep_allowed(
    results: Iterable[SearchResult], allowed_domains: Sequence[str]
) -> list[SearchResult]:
    """The results inside ``allowed_domains``: every backend checks what it got back."""
    return [result for result in results if domain_allowed(result.url, allowed_domains)]
