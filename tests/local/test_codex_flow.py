"""Codex-style traffic end to end against the embedded model, streamed over SSE.

A coding agent keeps no state on the server (``store: false``), offers a ``custom``
``apply_patch`` tool (a Lark grammar) beside function tools, asks for encrypted
reasoning, and replays the whole conversation every turn: its earlier reasoning items
(with their ``encrypted_content``), the tool calls and their outputs. Three turns:

1. the model writes a patch (forced), which must match the patch grammar;
2. the client sends the patch's output back with a reasoning item sealed under the
   server's key (the embedded model does not reason, so the blob is made the way a
   reasoning upstream's turn would have made it: ``sealing.Sealer`` with the configured
   ``server.sealing_key``), and the model calls the ``shell`` function (forced);
3. the shell's output goes back and the model answers in text.

Every stream is checked against the spec (and the SDK's shapes for custom tool calls);
nothing is stored; an altered blob is refused before the model is asked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from relaystack.app import build_app
from relaystack.config import parse_config
from relaystack.sealing import Sealer
from relaystack.wire.json import dumps
from tests.support import spec
from tests.support.patch_grammar import APPLY_PATCH, PATCH_PATTERN
from tests.support.servers import ServerThread
from tests.support.sse import post_stream

CHAT_MODEL = "local/smollm2-135m-instruct"
# A grammar-constrained call is sampled whole before its first event: on a busy machine
# that is a long silence.
SILENCE = 300.0
SEALING_KEY = "codex-flow-test-key"
SHELL = {
    "type": "function",
    "name": "shell",
    "description": "Run a shell command and return its output.",
    "parameters": {
        "type": "object",
        "properties": {"command": {"type": "array", "items": {"type": "string"}}},
        "required": ["command"],
        "additionalProperties": False,
    },
}
TOOLS = [APPLY_PATCH, SHELL]
TASK = "Create the file hello.txt with the line: hi"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state: Path = tmp_path_factory.mktemp("codex-flow") / "state.db"
    config = parse_config(
        {
            "providers": [{"type": "local"}],
            "storage": {"url": f"sqlite:///{state}"},
            "server": {"sealing_key": SEALING_KEY},
        }
    )
    with ServerThread(build_app(config)) as thread:
        yield f"{thread.url}/v1"


def turn(server: str, input_items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """One stateless turn over SSE: its checked events' final response (completed, or
    cut short by ``max_output_tokens``)."""
    body = {
        "model": CHAT_MODEL,
        "input": input_items,
        "tools": TOOLS,
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "temperature": 0,
        **extra,
    }
    response, frames = post_stream(server, "/responses", body, timeout=SILENCE)
    assert response.status_code == 200, response.text
    events = [frame.data for frame in frames if isinstance(frame.data, dict)]
    spec.check_stream_contract(events)
    final: dict[str, Any] = events[-1]["response"]
    assert final["status"] == "completed" or final["incomplete_details"] == {
        "reason": "max_output_tokens"
    }, final
    final["_events"] = [event["type"] for event in events]
    return final


def sealed_reasoning(text: str) -> dict[str, Any]:
    """A reasoning item as a reasoning model's stateless turn hands it to the client."""
    payload = {"summary": [], "content": [{"type": "reasoning_text", "text": text}]}
    blob = Sealer.from_secret(SEALING_KEY).seal("reasoning", dumps(payload))
    return {"type": "reasoning", "id": "rs_codex_1", "summary": [], "encrypted_content": blob}


def test_a_stateless_coding_agent_patches_runs_and_answers(server: str) -> None:
    history: list[dict[str, Any]] = [{"role": "user", "content": TASK}]

    first = turn(
        server,
        history,
        tool_choice={"type": "custom", "name": "apply_patch"},
        max_output_tokens=120,
    )
    assert first["status"] == "completed"
    (patch,) = first["output"]
    assert patch["type"] == "custom_tool_call" and patch["name"] == "apply_patch"
    assert re.fullmatch(PATCH_PATTERN, patch["input"]), patch["input"]
    assert "response.custom_tool_call_input.delta" in first["_events"]
    assert "response.custom_tool_call_input.done" in first["_events"]

    history += [
        sealed_reasoning("I should apply a patch that creates hello.txt."),
        patch,
        {"type": "custom_tool_call_output", "call_id": patch["call_id"], "output": "Done!"},
    ]
    second = turn(
        server,
        history,
        tool_choice={"type": "function", "name": "shell"},
        max_output_tokens=96,
    )
    assert second["status"] == "completed", second["output"]
    (shell,) = second["output"]
    assert shell["type"] == "function_call" and shell["name"] == "shell"
    command = json.loads(shell["arguments"])["command"]
    assert isinstance(command, list) and all(isinstance(part, str) for part in command)

    history += [
        shell,
        {"type": "function_call_output", "call_id": shell["call_id"], "output": "hi\n"},
    ]
    third = turn(server, history, max_output_tokens=24)
    assert third["output"][-1]["type"] == "message"
    assert third["output"][-1]["content"][0]["text"].strip()

    with httpx.Client(base_url=server, timeout=30) as http:
        for response in (first, second, third):  # store: false keeps nothing
            assert http.get(f"/responses/{response['id']}").status_code == 404


def test_an_altered_reasoning_blob_is_refused(server: str) -> None:
    reasoning = sealed_reasoning("A thought.")
    blob = reasoning["encrypted_content"]
    reasoning["encrypted_content"] = blob[:-3] + ("xyz" if not blob.endswith("xyz") else "abc")
    with httpx.Client(base_url=server, timeout=60) as http:
        answer = http.post(
            "/responses",
            json={
                "model": CHAT_MODEL,
                "input": [{"role": "user", "content": TASK}, reasoning],
                "tools": TOOLS,
                "store": False,
                "stream": True,
            },
        )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["param"] == "input[1].encrypted_content"
    assert error["type"] == "invalid_request_error"
