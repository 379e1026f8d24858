"""Which upstreams answered their last call: kept per provider for the readiness check."""

from __future__ import annotations

import time
from typing import Any, NamedTuple

# Error codes meaning the upstream gave no answer (unreachable, 5xx, timed out). Any
# other outcome, a 4xx included, is an answer.
_UNANSWERED = frozenset({"upstream_error", "upstream_timeout", "server_error"})


class LastCall(NamedTuple):  # made once per upstream call: a tuple is the cheapest
    answered: bool
    at: float  # epoch seconds
    error: str | None


class UpstreamHealth:
    def __init__(self) -> None:
        self._last: dict[str, LastCall] = {}

    def note(self, model: str, error: str | None) -> None:
        if error == "cancelled":
            return  # the client left: says nothing about the upstream
        provider = model.partition("/")[0]
        self._last[provider] = LastCall(error not in _UNANSWERED, time.time(), error)

    def report(self, providers: list[str]) -> dict[str, Any]:
        """Every provider's last call; ``answered`` is None for one not called yet."""
        report: dict[str, Any] = {}
        for provider in providers:
            last = self._last.get(provider)
            report[provider] = (
                {"answered": None, "at": None, "error": None}
                if last is None
                else {"answered": last.answered, "at": int(last.at), "error": last.error}
            )
        return report
