"""Precomputed response bytes for the mock upstream.

Everything a request can get back is built once per (model, shape) and cached, so
serving a request is a dict lookup plus one ``transport.write``.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

CREATED = 1_700_000_000
PROMPT_TOKENS = 12
EMBEDDING_DIM = 16
_CACHE_LIMIT = 256


@dataclass(frozen=True)
class MockShape:
    """What the mock answers: how many content chunks, with what delay between them."""

    chunks: int = 40
    delay: float = 0.0

    def tokens(self) -> list[str]:
        return [f"w{i} " for i in range(self.chunks)]

    def text(self) -> str:
        return "".join(self.tokens())


def _usage(completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": completion_tokens,
        "total_tokens": PROMPT_TOKENS + completion_tokens,
    }


def http_head(status: int, content_type: str, length: int | None, close: bool = False) -> bytes:
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
    lines = [f"HTTP/1.1 {status} {reason.get(status, 'OK')}", f"content-type: {content_type}"]
    if length is None:
        lines += ["cache-control: no-cache", "transfer-encoding: chunked"]
    else:
        lines.append(f"content-length: {length}")
    if close:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def json_response(obj: object, status: int = 200) -> bytes:
    body = orjson.dumps(obj)
    return http_head(status, "application/json", len(body)) + body


def error_response(status: int, message: str) -> bytes:
    err = {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    }
    return json_response(err, status)


def chunk_frame(data: bytes) -> bytes:
    """One HTTP/1.1 chunked-encoding frame."""
    return b"%x\r\n%s\r\n" % (len(data), data)


CHUNKED_END = b"0\r\n\r\n"


def chat_completion(model: str, shape: MockShape) -> bytes:
    body = {
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": shape.text(), "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(shape.chunks),
    }
    return json_response(body)


def chat_stream_events(model: str, shape: MockShape) -> list[bytes]:
    """The SSE events of one chat completion stream, each ``data: ...\\n\\n``."""
    base = {
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
    }
    events: list[bytes] = []
    for i, tok in enumerate(shape.tokens()):
        delta: dict[str, object] = {"content": tok}
        if i == 0:
            delta = {"role": "assistant", "content": tok}
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
        events.append(b"data: " + orjson.dumps({**base, "choices": [choice]}) + b"\n\n")
    stop = {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    events.append(b"data: " + orjson.dumps({**base, "choices": [stop]}) + b"\n\n")
    usage = {**base, "choices": [], "usage": _usage(shape.chunks)}
    events.append(b"data: " + orjson.dumps(usage) + b"\n\n")
    events.append(b"data: [DONE]\n\n")
    return events


def chat_stream(model: str, shape: MockShape) -> tuple[bytes, list[bytes]]:
    """(head, frames): the response head and one chunked frame per SSE event, end included."""
    frames = [chunk_frame(ev) for ev in chat_stream_events(model, shape)]
    frames.append(CHUNKED_END)
    return http_head(200, "text/event-stream", None), frames


# The tool call the mock makes when offered tools (the MCP workloads): ``add`` of the
# bench's MCP server, answered by the next request's ``tool`` message.
TOOL_CALL = {
    "id": "call_bench",
    "type": "function",
    "function": {"name": "add", "arguments": '{"a":1,"b":2}'},
}
# Offered ``file_search`` (the file-search workloads), it searches instead.
FILE_SEARCH_QUERY = "parse a date and time from a string"
FILE_SEARCH_CALL = {
    "id": "call_bench_search",
    "type": "function",
    "function": {
        "name": "file_search",
        "arguments": orjson.dumps({"query": FILE_SEARCH_QUERY}).decode(),
    },
}
TOOL_CALLS = {"add": TOOL_CALL, "file_search": FILE_SEARCH_CALL}


def tool_call_completion(model: str, call: dict[str, object] = TOOL_CALL) -> bytes:
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    body = {
        "id": "chatcmpl-mock-tool",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": "tool_calls"}
        ],
        "usage": _usage(1),
    }
    return json_response(body)


def tool_call_stream(model: str, call: dict[str, object] = TOOL_CALL) -> bytes:
    """The whole chat stream of one tool call: the call, a finish chunk, usage, [DONE]."""
    base = {
        "id": "chatcmpl-mock-tool",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
    }
    chunks: list[dict[str, object]] = [
        {
            "index": 0,
            "delta": {"role": "assistant", "tool_calls": [{"index": 0, **call}]},
            "finish_reason": None,
        },
        {"index": 0, "delta": {}, "finish_reason": "tool_calls"},
    ]
    events = [b"data: " + orjson.dumps({**base, "choices": [c]}) + b"\n\n" for c in chunks]
    usage = {**base, "choices": [], "usage": _usage(1)}
    events.append(b"data: " + orjson.dumps(usage) + b"\n\n")
    events.append(b"data: [DONE]\n\n")
    frames = [chunk_frame(ev) for ev in events]
    return http_head(200, "text/event-stream", None) + b"".join(frames) + CHUNKED_END


def embeddings(model: str, count: int) -> bytes:
    vec = [round(0.01 * (i + 1), 4) for i in range(EMBEDDING_DIM)]
    body = {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": vec} for i in range(count)],
        "model": model,
        "usage": {"prompt_tokens": 4 * count, "total_tokens": 4 * count},
    }
    return json_response(body)


def models(model_ids: list[str]) -> bytes:
    data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "mock"} for m in model_ids]
    return json_response({"object": "list", "data": data})


class PayloadCache:
    """Build-once cache of the response bytes for each model name the mock is asked for."""

    def __init__(self, shape: MockShape, model_ids: list[str]) -> None:
        self.shape = shape
        self.model_ids = model_ids
        self.models_bytes = models(model_ids)
        self._json: dict[str, bytes] = {}
        self._stream: dict[str, tuple[bytes, list[bytes], bytes]] = {}
        self._emb: dict[tuple[str, int], bytes] = {}
        self._tool: dict[tuple[str, bool, str], bytes] = {}

    def chat_json(self, model: str) -> bytes:
        hit = self._json.get(model)
        if hit is None:
            hit = chat_completion(model, self.shape)
            if len(self._json) < _CACHE_LIMIT:
                self._json[model] = hit
        return hit

    def chat_stream(self, model: str) -> tuple[bytes, list[bytes], bytes]:
        """(head, frames, whole): ``whole`` is head + all frames for the no-delay path."""
        hit = self._stream.get(model)
        if hit is None:
            head, frames = chat_stream(model, self.shape)
            hit = (head, frames, head + b"".join(frames))
            if len(self._stream) < _CACHE_LIMIT:
                self._stream[model] = hit
        return hit

    def tool_call(self, model: str, stream: bool, name: str = "add") -> bytes:
        key = (model, stream, name)
        hit = self._tool.get(key)
        if hit is None:
            call = TOOL_CALLS[name]
            hit = tool_call_stream(model, call) if stream else tool_call_completion(model, call)
            if len(self._tool) < _CACHE_LIMIT:
                self._tool[key] = hit
        return hit

    def embeddings(self, model: str, count: int) -> bytes:
        key = (model, count)
        hit = self._emb.get(key)
        if hit is None:
            hit = embeddings(model, count)
            if len(self._emb) < _CACHE_LIMIT:
                self._emb[key] = hit
        return hit
