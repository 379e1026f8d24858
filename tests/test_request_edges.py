"""Edges of request bodies: none at all, duplicate tool names, files we cannot send."""

from __future__ import annotations

import httpx
import pytest

from tests.support.mock_upstream import MockUpstream

MODEL = "openai/gpt-4o"


def test_no_body_names_the_missing_parameter(server: str) -> None:
    reply = httpx.post(f"{server}/responses")
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "model"


def test_no_body_creates_an_empty_conversation(server: str) -> None:
    reply = httpx.post(f"{server}/conversations")
    assert reply.status_code == 200, reply.text
    assert reply.json()["object"] == "conversation"


def test_duplicate_tool_names_are_a_400(server: str, upstream: MockUpstream) -> None:
    tool = {"type": "function", "name": "lookup"}
    sent = len(upstream.requests)
    reply = httpx.post(
        f"{server}/responses", json={"model": MODEL, "input": "x", "tools": [tool, tool]}
    )
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["param"] == "tools[1]"  # the definition that offers the name again
    assert "lookup" in error["message"]
    assert len(upstream.requests) == sent


@pytest.mark.parametrize(
    "part",
    [{"type": "input_file", "file_url": "https://example.com/a.pdf"}],
    ids=["file by url"],
)
def test_parts_chat_upstreams_cannot_take_are_a_400(
    server: str, upstream: MockUpstream, part: dict[str, str]
) -> None:
    sent = len(upstream.requests)
    reply = httpx.post(
        f"{server}/responses",
        json={"model": MODEL, "input": [{"role": "user", "content": [part]}]},
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "input[0].content[0]"
    assert len(upstream.requests) == sent


@pytest.mark.parametrize(
    "part",
    [{"type": "input_file", "file_id": "file-123"}, {"type": "input_image", "file_id": "file-123"}],
    ids=["file by id", "image by id"],
)
def test_a_file_id_that_names_no_file_is_a_404(
    server: str, upstream: MockUpstream, part: dict[str, str]
) -> None:
    sent = len(upstream.requests)
    reply = httpx.post(
        f"{server}/responses",
        json={"model": MODEL, "input": [{"role": "user", "content": [part]}]},
    )
    assert reply.status_code == 404
    assert reply.json()["error"]["param"] == "input[0]"
    assert len(upstream.requests) == sent
