"""Upstream chunks of any shape (hypothesis puts arbitrary JSON where the fields
relaystack reads should be): the client gets a whole answer or the upstream's 502,
never a 500, and the store says which."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.mock_upstream import MockUpstream, Reply

MODEL = "openai/gpt-4o"
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
ENVELOPE = {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o"}
FIELDS = st.sampled_from(
    [
        ("choices",),
        ("usage",),
        ("choices", 0),
        ("choices", 0, "index"),
        ("choices", 0, "finish_reason"),
        ("choices", 0, "delta"),
        ("choices", 0, "delta", "content"),
        ("choices", 0, "delta", "refusal"),
        ("choices", 0, "delta", "reasoning_content"),
        ("choices", 0, "delta", "tool_calls"),
        ("choices", 0, "delta", "tool_calls", 0, "index"),
        ("choices", 0, "delta", "tool_calls", 0, "id"),
        ("choices", 0, "delta", "tool_calls", 0, "function"),
        ("choices", 0, "delta", "tool_calls", 0, "function", "arguments"),
        ("usage", "prompt_tokens"),
        ("usage", "completion_tokens_details"),
    ]
)


def _chunk() -> dict[str, Any]:
    call = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "f", "arguments": "{}"},
    }
    delta = {"content": "hi", "tool_calls": [call]}
    return {
        **ENVELOPE,
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _put(chunk: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    target: Any = chunk
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return chunk


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(path=FIELDS, value=JSON)
def test_a_chunk_of_any_shape_is_an_answer_or_a_502(
    server: str, upstream: MockUpstream, path: tuple[Any, ...], value: Any
) -> None:
    upstream.reset()
    upstream.queue(Reply(chunks=[_put(_chunk(), path, value)]))
    tools = [{"type": "function", "name": "f", "parameters": {"type": "object"}}]
    reply = httpx.post(
        f"{server}/responses", json={"model": MODEL, "input": "x", "tools": tools}, timeout=30
    )
    assert reply.status_code in (200, 502), (path, value, reply.text[:300])
    if reply.status_code == 502:
        assert reply.json()["error"]["code"] == "upstream_error"
    listed = httpx.get(f"{server}/responses", params={"limit": 1}, timeout=30).json()["data"][0]
    answered = ("completed", "incomplete") if reply.status_code == 200 else ("failed",)
    assert listed["status"] in answered
