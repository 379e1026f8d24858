"""Pass-through calls report to telemetry as engine turns do: model, tokens, outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any

from relaystack.errors import ApiError
from relaystack.telemetry import UpstreamCall


def responses_usage(chat_usage: Any) -> dict[str, int] | None:
    """Chat-completions usage in the Responses names telemetry takes."""
    if not isinstance(chat_usage, Mapping):
        return None
    return {
        "input_tokens": chat_usage.get("prompt_tokens") or 0,
        "output_tokens": chat_usage.get("completion_tokens") or 0,
    }


async def reported(call: UpstreamCall, work: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """``work``'s answer (a completion or embeddings), its call reported either way."""
    try:
        result = await work
    except ApiError as error:
        call.finished(usage=None, finish_reason=None, error=error.code or "error")
        raise
    except asyncio.CancelledError:
        call.finished(usage=None, finish_reason=None, error="cancelled")
        raise
    choices = result.get("choices") or [{}]
    call.finished(
        usage=responses_usage(result.get("usage")),
        finish_reason=choices[0].get("finish_reason"),
        error=None,
        response_id=result.get("id"),
    )
    return result


class ChunkWatch:
    """Watches a passed-through stream's chunks for its first token and its usage."""

    __slots__ = ("call", "finish_reason", "generating", "usage")

    def __init__(self, call: UpstreamCall) -> None:
        self.call = call
        self.generating = False
        self.usage: Any = None
        self.finish_reason: str | None = None

    def see(self, chunk: dict[str, Any]) -> None:
        choices = chunk.get("choices")
        if choices:
            choice = choices[0]
            if not self.generating:
                delta = choice.get("delta") or {}
                if delta.get("content") or delta.get("tool_calls") or delta.get("refusal"):
                    self.generating = True
                    self.call.first_token()
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        if chunk.get("usage"):
            self.usage = chunk["usage"]

    def finished(self, error: str | None) -> None:
        self.call.finished(
            usage=responses_usage(self.usage), finish_reason=self.finish_reason, error=error
        )
