"""A scriptable OpenAI-compatible upstream on a real socket.

Tests queue the replies the next requests get (text, tool calls, reasoning, HTTP
errors, a stream that breaks off, or a recording's chunks with a body check);
with nothing queued it echoes the last user message. Every request body is kept.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from relaystack.inference.retry import RetryConfig

RECORDINGS = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "recordings"
MODELS = ["gpt-4o", "mock-model"]


@dataclass
class Reply:
    """What the next upstream call answers."""

    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # {id, name, arguments}
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    status: int = 200
    error_body: Any = None
    break_after: int | None = None  # drop the connection after this many chunks
    chunks: list[dict[str, Any]] | None = None  # verbatim chunks (from a recording)
    expect_body: dict[str, Any] | None = None  # answer 418 unless the body equals this
    delay: float = 0.0  # seconds between chunks
    headers: dict[str, str] = field(default_factory=dict)  # e.g. retry-after on a 429
    # Chat logprob entries, one per ``content`` piece (each piece one token).
    logprobs: list[dict[str, Any]] | None = None


def every_attempt(reply: Reply) -> list[Reply]:
    """A 429 or 503 ``reply`` for each of the calls a provider makes (it retries those)
    by default, so that the client sees it."""
    return [reply] * RetryConfig().attempts


def recording(name_prefix: str) -> dict[str, Any]:
    (path,) = RECORDINGS.glob(f"{name_prefix}*.json")
    return json.loads(path.read_text())


def replay_of(name_prefix: str) -> Reply:
    """A reply that checks the body against a recording and streams its chunks."""
    data = recording(name_prefix)
    return Reply(
        chunks=[chunk["__data__"] for chunk in data["response"]["body"]],
        expect_body=data["request"]["body"],
    )


class MockUpstream:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.arrivals: list[float] = []  # wall-clock time of each chat request
        # Per streamed answer: "complete", or "abandoned" when relaystack hung up first.
        self.stream_outcomes: list[str] = []
        self._replies: deque[Reply] = deque()
        # Answers the requests nothing is queued for (None: echo), e.g. by their body.
        self.responder: Callable[[dict[str, Any]], Reply | None] | None = None
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._replies.clear()
            self.responder = None
            self.requests.clear()
            self.headers.clear()
            self.arrivals.clear()
            self.stream_outcomes.clear()

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        reply = self.responder(body) if self.responder is not None else None
        return reply or _echo(body)

    async def _models(self, _request: Request) -> Response:
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "mock"} for m in MODELS]
        return JSONResponse({"object": "list", "data": data})

    async def _embeddings(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": [len(str(text)) / 10.0, 0.5, i]}
            for i, text in enumerate(inputs)
        ]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
            }
        )

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self.arrivals.append(time.time())
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if not _well_formed(body):
            # As OpenAI would answer a body relaystack passed through unchecked.
            error = {"message": "invalid messages", "type": "invalid_request_error"}
            return JSONResponse({"error": error}, status_code=400)
        reply = self._next_reply(body)
        if reply.expect_body is not None and body != reply.expect_body:
            return JSONResponse(
                {"error": {"message": f"unexpected body: {json.dumps(body)}", "code": "mock"}},
                status_code=418,
            )
        if reply.status != 200:
            return JSONResponse(reply.error_body, status_code=reply.status, headers=reply.headers)
        chunks = reply.chunks if reply.chunks is not None else _chunks(body["model"], reply)
        # Like OpenAI's, each answer names itself, for relaystack's log lines.
        headers = {"x-request-id": f"mock-req-{len(self.requests)}"}
        if not body.get("stream"):
            return JSONResponse(_completion(body["model"], reply), headers=headers)
        return _WatchedStream(_sse(chunks, reply), self.stream_outcomes, headers)


class _WatchedStream:
    """A streamed answer that notes how it ended: ``complete``, or ``abandoned`` when the
    client (relaystack) hung up first or the stream broke on purpose."""

    def __init__(
        self, stream: AsyncIterator[bytes], outcomes: list[str], headers: dict[str, str]
    ) -> None:
        self._stream = stream
        self._outcomes = outcomes
        self._complete = False
        self._response = StreamingResponse(
            self._body(), media_type="text/event-stream", headers=headers
        )

    async def _body(self) -> AsyncIterator[bytes]:
        async for data in self._stream:
            yield data
        self._complete = True

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            # Starlette stops sending (without closing the generator) once it hears
            # the client leave, and returns.
            await self._response(scope, receive, send)
        finally:
            self._outcomes.append("complete" if self._complete else "abandoned")


async def _sse(chunks: list[dict[str, Any]], reply: Reply) -> AsyncIterator[bytes]:
    for index, chunk in enumerate(chunks):
        if reply.break_after is not None and index == reply.break_after:
            raise ConnectionAbortedError("mock upstream breaks the stream on purpose")
        if reply.delay:
            await asyncio.sleep(reply.delay)
        yield b"data: " + json.dumps(chunk).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"


def _well_formed(body: Any) -> bool:
    messages = body.get("messages") if isinstance(body, dict) else None
    return isinstance(messages, list) and all(
        isinstance(message, dict) and isinstance(message.get("content"), str | list | None)
        for message in messages
    )


def _echo(body: dict[str, Any]) -> Reply:
    last = next(
        (m for m in reversed(body.get("messages", [])) if m.get("role") == "user"), {"content": ""}
    )
    text = last["content"] if isinstance(last["content"], str) else json.dumps(last["content"])
    words = f"echo: {text}".split(" ")
    return Reply(content=[w if i == 0 else " " + w for i, w in enumerate(words)])


def _usage(reply: Reply) -> dict[str, Any]:
    if reply.usage is not None:
        return reply.usage
    completion = len(reply.content) + len(reply.reasoning) + len(reply.tool_calls)
    return {
        "prompt_tokens": 11,
        "completion_tokens": completion,
        "total_tokens": 11 + completion,
        "prompt_tokens_details": {"cached_tokens": 3},
        "completion_tokens_details": {"reasoning_tokens": len(reply.reasoning)},
    }


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


def _chunks(model: str, reply: Reply) -> list[dict[str, Any]]:
    chunks = [_chunk(model, {"role": "assistant", "content": ""})]
    chunks += [_chunk(model, {"reasoning_content": piece}) for piece in reply.reasoning]
    for index, piece in enumerate(reply.content):
        chunks.append(_chunk(model, {"content": piece}))
        if reply.logprobs is not None:
            chunks[-1]["choices"][0]["logprobs"] = {"content": [reply.logprobs[index]]}
    chunks += [_chunk(model, {"refusal": piece}) for piece in reply.refusal]
    for index, call in enumerate(reply.tool_calls):
        arguments = call["arguments"]
        half = len(arguments) // 2
        first = {"index": index, "id": call["id"], "type": "function"}
        first["function"] = {"name": call["name"], "arguments": arguments[:half]}
        chunks.append(_chunk(model, {"tool_calls": [first]}))
        rest = {"index": index, "function": {"arguments": arguments[half:]}}
        chunks.append(_chunk(model, {"tool_calls": [rest]}))
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    chunks.append(_chunk(model, {}, finish))
    usage_chunk = _chunk(model, {})
    usage_chunk["choices"] = []
    usage_chunk["usage"] = _usage(reply)
    chunks.append(usage_chunk)
    return chunks


def _completion(model: str, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "".join(reply.content) or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": call["arguments"]},
            }
            for call in reply.tool_calls
        ]
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": reply.finish_reason
                or ("tool_calls" if reply.tool_calls else "stop"),
                "logprobs": None,
            }
        ],
        "usage": _usage(reply),
    }
