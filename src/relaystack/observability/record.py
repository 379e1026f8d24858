"""What one request did, gathered while it runs and reported once it ends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    method: str
    path: str
    started: float  # time.perf_counter() when the request arrived
    route: str = ""  # the route's template (/v1/responses/{response_id}); "" when none
    status: int = 0
    owner: str | None = None
    model: str | None = None  # the public id of the first model called
    first_token_at: float | None = None
    upstream_seconds: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    upstream_ids: list[str] = field(default_factory=list)
    # Run just before the response's last byte (a concurrency lease given back, so a
    # client that has its answer may send the next request), or once it has been sent.
    before_last_byte: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    cleanups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def log_fields(self, duration: float) -> dict[str, Any]:
        ttft = None if self.first_token_at is None else self.first_token_at - self.started
        return {
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "owner": self.owner,
            "model": self.model,
            "duration_ms": round(duration * 1000, 2),
            "ttft_ms": None if ttft is None else round(ttft * 1000, 2),
            "upstream_ms": round(self.upstream_seconds * 1000, 2) if self.model else None,
            "input_tokens": self.input_tokens if self.model else None,
            "output_tokens": self.output_tokens if self.model else None,
            "upstream_request_ids": self.upstream_ids,
        }
