"""Loopback-only guard: the bench never sends traffic off this machine."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_loopback(host: str) -> None:
    if not is_loopback(host):
        raise SystemExit(f"refusing non-loopback host {host!r}: the bench is loopback only")


def split_base_url(url: str) -> tuple[str, int, str]:
    """``http://127.0.0.1:8000/v1`` -> (host, port, path prefix ``/v1``); loopback enforced."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise SystemExit(f"only plain http:// loopback URLs are supported, got {url!r}")
    host = parts.hostname or ""
    require_loopback(host)
    port = parts.port or 80
    return host, port, parts.path.rstrip("/")
