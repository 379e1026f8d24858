"""The backends one server searches with: the configured one, and the offline corpus.

Built once at start-up (``build_backends``) around an HTTP client made by the caller;
the offline backend also learns every page a search found (``remember``), so
``external_web_access: false`` answers from earlier results too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from relaystack.search.base import SearchBackend, SearchResult
from relaystack.search.config import OfflineConfig, WebSearchConfig
from relaystack.search.factory import build_backend, build_offline
from relaystack.search.offline import OfflineBackend


@dataclass
class SearchBackends:
    online: SearchBackend | None  # None: no backend configured (web_search is a 400)
    offline: OfflineBackend

    def for_access(self, external: bool) -> SearchBackend:
        """Who answers: the configured backend, or the offline one when the request
        said ``external_web_access: false`` (or the backend is the offline one)."""
        if external and self.online is not None:
            return self.online
        return self.offline

    def remember(self, results: Sequence[SearchResult]) -> None:
        if self.online is not self.offline:
            self.offline.add_pages(results)


def build_backends(config: WebSearchConfig, client: httpx.AsyncClient) -> SearchBackends:
    if isinstance(config.backend, OfflineConfig):
        offline = build_offline(config.backend)
        if config.offline is not None:
            offline.add_pages(build_offline(config.offline).pages())
        return SearchBackends(online=offline, offline=offline)
    offline = build_offline(config.offline)
    online = build_backend(config.backend, client) if config.backend is not None else None
    return SearchBackends(online=online, offline=offline)
