"""The request shapes of the matrix and how each answer is checked to be complete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson

from bench.httpclient import Result

PROMPT = "Say hello to the benchmark."
Check = Callable[[Result], str | None]


def _status(res: Result) -> str | None:
    if res.status != 200:
        return f"HTTP {res.status}: {res.body[:200]!r}"
    return None


def check_chat_json(res: Result) -> str | None:
    if err := _status(res):
        return err
    try:
        obj = orjson.loads(res.body)
        content = obj["choices"][0]["message"]["content"]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        return f"not a chat completion: {res.body[:200]!r}"
    return None if content else "empty content"


def check_chat_stream(res: Result) -> str | None:
    if err := _status(res):
        return err
    if not res.body.rstrip().endswith(b"data: [DONE]"):
        return f"stream did not end with data: [DONE]: {res.body[-200:]!r}"
    return None


def check_responses_json(res: Result) -> str | None:
    if err := _status(res):
        return err
    try:
        obj = orjson.loads(res.body)
    except orjson.JSONDecodeError:
        return f"not JSON: {res.body[:200]!r}"
    if not isinstance(obj, dict) or obj.get("status") != "completed" or not obj.get("output"):
        return f"response not completed: {res.body[:300]!r}"
    return None


def last_sse_event(body: bytes) -> tuple[str, bytes]:
    """(event name or '', data) of the last SSE event in ``body`` before ``[DONE]``."""
    body = body.replace(b"\r\n", b"\n").rstrip().removesuffix(b"data: [DONE]")
    block = body.rstrip().rsplit(b"\n\n", 1)[-1]
    name, data = "", b""
    for line in block.split(b"\n"):
        if line.startswith(b"event:"):
            name = line[6:].strip().decode("utf-8", "replace")
        elif line.startswith(b"data:"):
            data += line[5:].strip()
    return name, data


def check_responses_stream(res: Result) -> str | None:
    if err := _status(res):
        return err
    name, data = last_sse_event(res.body)
    try:
        typ = orjson.loads(data).get("type") if data else None
    except (orjson.JSONDecodeError, AttributeError):
        typ = None
    if "response.completed" not in (name, typ):
        return f"last event is not response.completed: {res.body[-200:]!r}"
    return None


def check_mcp_json(res: Result) -> str | None:
    if err := check_responses_json(res):
        return err
    return None if b'"mcp_call"' in res.body else f"no mcp_call item: {res.body[:300]!r}"


def check_mcp_stream(res: Result) -> str | None:
    if err := check_responses_stream(res):
        return err
    return None if b"response.mcp_call.completed" in res.body else "no mcp_call completed"


def mcp_tools(mcp_url: str) -> dict[str, object]:
    """The request fields of an MCP cell: the bench's MCP server, no approval asked."""
    server = {
        "type": "mcp",
        "server_label": "bench",
        "server_url": mcp_url,
        "require_approval": "never",
    }
    return {"tools": [server]}


@dataclass(frozen=True)
class Workload:
    name: str
    path: str
    stream: bool
    marker: bytes  # first-token marker inside the body
    check: Check
    mcp: bool = False  # offers the bench's MCP server: one call, then the answer

    def body(self, model: str, **extra: object) -> bytes:
        if self.path.endswith("/chat/completions"):
            req: dict[str, object] = {
                "model": model,
                "messages": [{"role": "user", "content": PROMPT}],
            }
            if self.stream:
                req["stream"] = True
                req["stream_options"] = {"include_usage": True}
        elif self.path.endswith("/responses"):
            req = {"model": model, "input": PROMPT}
            if self.stream:
                req["stream"] = True
        else:
            req = {"model": model, "input": PROMPT}
        req.update(extra)
        return orjson.dumps(req)


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("chat", "/chat/completions", False, b"", check_chat_json),
        Workload("chat-stream", "/chat/completions", True, b'"content"', check_chat_stream),
        Workload("responses", "/responses", False, b"", check_responses_json),
        Workload(
            "responses-stream", "/responses", True, b"output_text.delta", check_responses_stream
        ),
        Workload("responses-mcp", "/responses", False, b"", check_mcp_json, mcp=True),
        Workload(
            "responses-mcp-stream",
            "/responses",
            True,
            b"output_text.delta",
            check_mcp_stream,
            mcp=True,
        ),
        Workload("embeddings", "/embeddings", False, b"", lambda r: _status(r)),
    )
}

# The mock does not speak the Responses API: the "direct" baseline for a responses
# cell is what relaystack itself asks upstream for, a chat stream of the same length.
# An MCP cell asks upstream twice and calls the MCP server once; its baseline is still
# the one text stream (the tool-call stream and the MCP call are not in it).
DIRECT_EQUIVALENT = {
    "responses": "chat-stream",
    "responses-stream": "chat-stream",
    "responses-mcp": "chat-stream",
    "responses-mcp-stream": "chat-stream",
}
