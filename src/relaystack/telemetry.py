"""What any layer may report about the request it serves, and a no-op default.

The engine, the providers and the recorder report upstream calls, tool calls, replay
hits and upstream request ids through ``telemetry()``: a contextvar that the HTTP
middleware (``relaystack.observability``) fills with the real recorder for each
request. Outside a request (unit tests, the CLI) every report goes to ``NO_TELEMETRY``,
so no layer below the app imports Prometheus or OpenTelemetry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Protocol


class UpstreamCall(Protocol):
    """One call to an upstream model, from the moment it is opened."""

    def first_token(self) -> None:
        """The first generated text or tool-call delta arrived (called once)."""

    def finished(
        self,
        *,
        usage: Mapping[str, Any] | None,
        finish_reason: str | None,
        error: str | None,
        response_id: str | None = None,
        output: Sequence[Any] = (),
    ) -> None:
        """The call ended. ``usage`` uses the Responses names (``input_tokens``,
        ``output_tokens``); ``error`` is an error code, or None when it succeeded."""


class ToolCall(Protocol):
    """One server-side tool call, from the moment it starts running."""

    def finished(self, outcome: str) -> None:
        """``outcome``: ``completed``, ``failed`` or ``cancelled``."""


class Telemetry(Protocol):
    def identify(self, owner: str) -> None:
        """The request was authenticated as ``owner``."""

    def upstream_call(
        self, model: str, operation: str = "chat", input_items: Sequence[Any] = ()
    ) -> UpstreamCall:
        """``model`` is the public id (``provider/model``)."""

    def tool_call(self, tool_type: str, name: str, call_id: str | None = None) -> ToolCall: ...

    def replay(self, hit: bool) -> None:
        """The recorder answered from a recording (hit) or found none (miss)."""

    def upstream_request_id(self, request_id: str) -> None:
        """The id an upstream gave its answer (its ``x-request-id``), for the log line."""


class _Nothing:
    """Every report accepted and dropped."""

    def first_token(self) -> None:
        pass

    def finished(self, *_args: Any, **_kwargs: Any) -> None:
        pass

    def identify(self, owner: str) -> None:
        pass

    def upstream_call(
        self, model: str, operation: str = "chat", input_items: Sequence[Any] = ()
    ) -> _Nothing:
        return self

    def tool_call(self, tool_type: str, name: str, call_id: str | None = None) -> _Nothing:
        return self

    def replay(self, hit: bool) -> None:
        pass

    def upstream_request_id(self, request_id: str) -> None:
        pass


NO_TELEMETRY: Telemetry = _Nothing()

_current: ContextVar[Telemetry] = ContextVar("relaystack_telemetry", default=NO_TELEMETRY)


def telemetry() -> Telemetry:
    """The recorder of the request being served (a no-op outside any request)."""
    return _current.get()


def bind_telemetry(recorder: Telemetry) -> None:
    """Make ``recorder`` hear this request's reports (the HTTP middleware calls it)."""
    _current.set(recorder)
