"""Turn events to OpenAI-shaped dicts: ``chat.completion.chunk``s and ``chat.completion``.

Shapes follow what OpenAI sends: a first chunk with the assistant role, content
deltas, tool calls (one chunk each, with their whole arguments), a chunk with the
``finish_reason``, and, when ``stream_options.include_usage`` is set, a last chunk with
``choices: []`` and the usage (every other chunk then carries ``usage: null``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from relaystack.inference.local.generate import Finish, ToolCall


def usage(finish: Finish) -> dict[str, int]:
    return {
        "prompt_tokens": finish.prompt_tokens,
        "completion_tokens": finish.completion_tokens,
        "total_tokens": finish.prompt_tokens + finish.completion_tokens,
    }


class ChunkWriter:
    """One turn's chunks. Its ids and ``created`` come from the app's injected
    ``IdSource`` and ``Clock``, so a deterministic app gives deterministic chunks."""

    def __init__(
        self,
        model: str,
        *,
        include_usage: bool,
        completion_id: str,
        created: int,
        call_ids: Callable[[str], str],
    ) -> None:
        self.id = completion_id
        self.created = created
        self.model = model
        self._call_ids = call_ids
        self.include_usage = include_usage
        self._tool_calls = 0

    def _chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if self.include_usage:
            chunk["usage"] = None
        return chunk

    def _delta(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return self._chunk(
            [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]
        )

    def role(self) -> dict[str, Any]:
        return self._delta({"role": "assistant", "content": "", "refusal": None})

    def text(self, text: str, logprobs: tuple[dict[str, Any], ...] | None = None) -> dict[str, Any]:
        chunk = self._delta({"content": text})
        if logprobs is not None:
            chunk["choices"][0]["logprobs"] = {"content": list(logprobs), "refusal": None}
        return chunk

    def tool_call(self, call: ToolCall) -> dict[str, Any]:
        index, self._tool_calls = self._tool_calls, self._tool_calls + 1
        return self._delta(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": self._call_ids("call"),
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments},
                    }
                ]
            }
        )

    def finish(self, finish: Finish) -> dict[str, Any]:
        return self._delta({}, finish.reason)

    def usage(self, finish: Finish) -> dict[str, Any]:
        chunk = self._chunk([])
        chunk["usage"] = usage(finish)
        return chunk


def completion(
    writer: ChunkWriter,
    text: str,
    calls: list[ToolCall],
    finish: Finish,
    logprobs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` for the same turn."""
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if calls:
        message["content"] = text or None
        message["tool_calls"] = [
            writer.tool_call(call)["choices"][0]["delta"]["tool_calls"][0] for call in calls
        ]
        for call in message["tool_calls"]:
            del call["index"]
    return {
        "id": writer.id,
        "object": "chat.completion",
        "created": writer.created,
        "model": writer.model,
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish.reason,
                "logprobs": None if logprobs is None else {"content": logprobs, "refusal": None},
            }
        ],
        "usage": usage(finish),
    }
