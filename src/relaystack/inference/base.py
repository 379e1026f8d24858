"""The one interface every inference provider implements.

Bodies are OpenAI chat-completions / embeddings request bodies as plain dicts, with
``model`` already set to the provider's own (upstream) model id. Streams yield chunk
dicts shaped like ``ChatCompletionChunk``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from relaystack.errors import ApiError

# "credentials": the upstream refused relaystack's own key (its 401/403), a 502.
UpstreamFailure = Literal["http", "connect", "timeout", "protocol", "credentials"]


class UpstreamError(ApiError):
    """The upstream refused, failed or could not be reached.

    4xx answers keep the upstream's status and message (with OpenAI's code where one
    fits, else ``upstream_refused``); everything else is a 502 (504 for a timeout) so
    the client can tell our fault from the model's.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: UpstreamFailure,
        upstream_status: int | None = None,
        code: str | None = None,
        param: str | None = None,
        body: Any = None,
    ) -> None:
        if kind == "http" and upstream_status is not None and 400 <= upstream_status < 500:
            # The upstream refused the request; its own code, if any, is not OpenAI's
            # (``inference/error_codes.py`` maps those it knows).
            status, error_type, default = (
                upstream_status,
                "invalid_request_error",
                "upstream_refused",
            )
        elif kind == "timeout":
            status, error_type, default = 504, "server_error", "upstream_timeout"
        else:
            status, error_type, default = 502, "server_error", "upstream_error"
        super().__init__(
            message,
            param=param,
            code=code or default,
            status_code=status,
            error_type=error_type,
        )
        self.kind = kind
        self.upstream_status = upstream_status
        self.body = body


# Request fields a chat upstream may take as they are (``text.verbosity`` as
# ``verbosity``), sent only to providers configured to take them.
ForwardedField = Literal[
    "user", "safety_identifier", "prompt_cache_key", "service_tier", "verbosity"
]


@dataclass(frozen=True)
class ModelInfo:
    """A model as its provider knows it (the upstream id, without our prefix)."""

    id: str
    owned_by: str = "relaystack"
    created: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    # The temperature / top_p the model samples with when a request sets none, where
    # they differ from OpenAI's (1.0 / 1.0), so responses can echo what was used.
    sampling_defaults: dict[str, float] = field(default_factory=dict)
    # Request fields sent on to this model's upstream (``ForwardedField``).
    forwarded: frozenset[str] = frozenset()


class ChunkStream(Protocol):
    """Chat chunks from one call; ``aclose`` stops the call, read to the end or not."""

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]: ...

    async def __anext__(self) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


class InferenceProvider(Protocol):
    id: str

    async def list_models(self) -> list[ModelInfo]: ...

    async def chat_completion(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def stream_chat_completion(self, body: dict[str, Any]) -> ChunkStream:
        """Start a streamed call. A provider that can refuse at once (a full queue)
        raises here, before any caller has answered its client."""

    async def embeddings(self, body: dict[str, Any]) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...
