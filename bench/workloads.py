"""The request shapes of the matrix and how each answer is checked to be complete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson

from bench.httpclient import Result

PROMPT = "Say hello to the benchmark."


def tool_chat(model: str, messages: list[dict[str, object]], tool: dict[str, object]) -> bytes:
    """A streamed chat-completions body offering one function tool (the direct turns')."""
    return orjson.dumps(
        {
            "model": model,
            "messages": messages,
            "tools": [tool],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    )


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


def check_input_tokens(res: Result) -> str | None:
    if err := _status(res):
        return err
    obj = orjson.loads(res.body)
    if obj.get("object") != "response.input_tokens" or not obj.get("input_tokens"):
        return f"not an input token count: {res.body[:200]!r}"
    return None


# The input-tokens cell counts a 50-item context (25 exchanges) of ordinary sentences.
CONTEXT_ITEMS = [
    {
        "role": "user" if k % 2 == 0 else "assistant",
        "content": f"Message {k}: the lighthouse keeper wrote down the weather, the ships "
        "that passed and the state of the lamp, as he did every evening.",
    }
    for k in range(50)
]


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


def check_file_search_json(res: Result) -> str | None:
    if err := check_responses_json(res):
        return err
    output = orjson.loads(res.body)["output"]
    calls = [item for item in output if item.get("type") == "file_search_call"]
    if not calls or calls[0].get("status") != "completed":
        return f"no completed file_search_call item: {res.body[:300]!r}"
    return None


def check_file_search_stream(res: Result) -> str | None:
    if err := check_responses_stream(res):
        return err
    if b"response.file_search_call.completed" not in res.body:
        return "no file_search_call completed"
    return None


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
    # The direct baseline of an MCP cell: what relaystack does, without relaystack (see
    # bench/mcp_direct.py); ``body`` is its first chat request.
    mcp_direct: bool = False
    # Offers file_search on the bench's vector store (bench/file_search_direct.py).
    file_search: bool = False
    file_search_direct: bool = False  # its direct baseline, as ``mcp_direct``

    def body(self, model: str, **extra: object) -> bytes:
        if self.path.endswith("/chat/completions"):
            req: dict[str, object] = {
                "model": model,
                "messages": [{"role": "user", "content": PROMPT}],
            }
            if self.stream:
                req["stream"] = True
                req["stream_options"] = {"include_usage": True}
        elif self.path.endswith("/input_tokens"):
            req = {"model": model, "input": CONTEXT_ITEMS}
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
        Workload(
            "mcp-direct",
            "/chat/completions",
            True,
            b'"content"',
            check_chat_stream,
            mcp_direct=True,
        ),
        Workload(
            "responses-file-search",
            "/responses",
            False,
            b"",
            check_file_search_json,
            file_search=True,
        ),
        Workload(
            "responses-file-search-stream",
            "/responses",
            True,
            b"output_text.delta",
            check_file_search_stream,
            file_search=True,
        ),
        Workload(
            "file-search-direct",
            "/chat/completions",
            True,
            b'"content"',
            check_chat_stream,
            file_search_direct=True,
        ),
        Workload("embeddings", "/embeddings", False, b"", lambda r: _status(r)),
        Workload("input-tokens", "/responses/input_tokens", False, b"", check_input_tokens),
    )
}

# The mock does not speak the Responses API: the "direct" baseline for a responses
# cell is what relaystack itself asks upstream for, a chat stream of the same length.
# An MCP cell asks upstream twice and calls the MCP server: its baseline does the same
# directly (the tool-call stream, one MCP session listing and calling, the text stream).
# A file-search cell asks upstream twice and embeds the query: its baseline does that.
DIRECT_EQUIVALENT = {
    "responses": "chat-stream",
    "responses-stream": "chat-stream",
    "responses-mcp": "mcp-direct",
    "responses-mcp-stream": "mcp-direct",
    "responses-file-search": "file-search-direct",
    "responses-file-search-stream": "file-search-direct",
}
MCP_WORKLOADS = ("responses-mcp", "responses-mcp-stream", "mcp-direct")
FILE_SEARCH_WORKLOADS = ("responses-file-search", "responses-file-search-stream")
# Cells only relaystack answers (the mock has no equivalent): no direct baseline.
SERVER_ONLY = frozenset({"input-tokens"})
