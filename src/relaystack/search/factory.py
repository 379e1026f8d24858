"""Building backends from their configuration, with a client made elsewhere.

The HTTP client is the caller's (the app builds it, and puts the recording transport
under it when recording); the offline backend needs none.
"""

from __future__ import annotations

import httpx

from relaystack.search.base import SearchBackend
from relaystack.search.config import (
    BackendConfig,
    OfflineConfig,
    SearxngConfig,
    TavilyConfig,
)
from relaystack.search.corpus import CorpusError, load_directory, load_pages_file
from relaystack.search.offline import OfflineBackend
from relaystack.search.searxng import SearxngBackend
from relaystack.search.tavily import TavilyBackend


class SearchConfigError(ValueError):
    """A backend that cannot be built as configured; one line for the operator."""


def build_backend(config: BackendConfig, client: httpx.AsyncClient) -> SearchBackend:
    if isinstance(config, SearxngConfig):
        return SearxngBackend(
            client,
            config.base_url,
            categories=config.categories,
            engines=config.engines,
            language=config.language,
            safesearch=config.safesearch,
            timeout=config.timeout,
        )
    if isinstance(config, TavilyConfig):
        return _tavily(config, client)
    return build_offline(config)


def build_offline(config: OfflineConfig | None) -> OfflineBackend:
    """The offline backend over the configured corpus (empty without one)."""
    backend = OfflineBackend()
    if config is None:
        return backend
    try:
        if config.directory is not None:
            backend.add_pages(load_directory(config.directory, config.base_url))
        if config.pages_file is not None:
            backend.add_pages(load_pages_file(config.pages_file))
    except CorpusError as exc:
        raise SearchConfigError(str(exc)) from exc
    return backend


def _tavily(config: TavilyConfig, client: httpx.AsyncClient) -> TavilyBackend:
    key = config.resolved_api_key()
    if not key:
        raise SearchConfigError(
            f"the Tavily search backend needs an API key: set {config.key_source}"
        )
    return TavilyBackend(
        client,
        key,
        base_url=config.base_url,
        topic=config.topic,
        timeout=config.timeout,
        key_source=config.key_source,
    )
