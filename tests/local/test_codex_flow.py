"""Codex-style traffic end to end against the embedded model, over WebSocket mode.

A coding agent keeps no state on the server (``store: false``), opens one WebSocket to
``/v1/responses``, offers a ``custom`` ``apply_patch`` tool (a Lark grammar) beside a
function tool, and asks for encrypted reasoning. Three turns on one socket:

1. the model writes a patch (forced), which must match the patch grammar;
2. the client replays the whole conversation, as agents do without server state: the
   patch's call and output, and a reasoning item sealed under the server's key (the
   embedded model does not reason, so the blob is made as a reasoning upstream's turn
   would have made it: ``sealing.Sealer`` with the configured ``server.sealing_key``);
   the model calls the ``shell`` function (forced);
3. the shell's output goes back on top of the previous response, which the socket keeps
   although nothing was stored, and the model answers in text.

Every turn's events are checked against the spec (and the SDK's shapes for custom tool
calls); nothing is stored; an altered blob is an ``error`` event naming the item, and
the socket stays usable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection

from relaystack.app import build_app
from relaystack.config import parse_config
from relaystack.sealing import Sealer
from relaystack.wire.json import dumps
from tests.support import spec
from tests.support.patch_grammar import APPLY_PATCH, PATCH_PATTERN
from tests.support.servers import ServerThread
from tests.support.sockets import ENDINGS, responses_socket

CHAT_MODEL = "local/smollm2-135m-instruct"
SEALING_KEY = "codex-flow-test-key"
# A grammar-constrained call is sampled whole before its first event: on a busy
# machine that is tens of seconds of silence on the socket.
SILENCE = 300.0
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


def send(
    socket: ClientConnection, input_items: list[dict[str, Any]], **extra: Any
) -> list[dict[str, Any]]:
    """One ``response.create`` of a stateless agent; every event up to its ending."""
    body = {
        "type": "response.create",
        "model": CHAT_MODEL,
        "input": input_items,
        "tools": TOOLS,
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "temperature": 0,
        **extra,
    }
    socket.send(json.dumps(body))
    events: list[dict[str, Any]] = []
    while not events or events[-1]["type"] not in ENDINGS:
        message = socket.recv(timeout=SILENCE)
        assert isinstance(message, str), "events arrive as text messages"
        events.append(json.loads(message))
    return events


def ended(events: list[dict[str, Any]], *, cut_short_ok: bool = False) -> dict[str, Any]:
    """The turn's final response, its events checked: completed (or, for an answer in
    text, cut short by ``max_output_tokens``)."""
    spec.check_stream_contract(events)
    final: dict[str, Any] = events[-1]["response"]
    cut_short = final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["status"] == "completed" or (cut_short_ok and cut_short), final
    return final


def sealed_reasoning(text: str) -> dict[str, Any]:
    """A reasoning item as a reasoning model's stateless turn hands it to the client."""
    payload = {"summary": [], "content": [{"type": "reasoning_text", "text": text}]}
    blob = Sealer.from_secret(SEALING_KEY).seal("reasoning", dumps(payload))
    return {"type": "reasoning", "id": "rs_codex_1", "summary": [], "encrypted_content": blob}


def test_a_stateless_coding_agent_patches_runs_and_answers_on_one_socket(server: str) -> None:
    history: list[dict[str, Any]] = [{"role": "user", "content": TASK}]
    with responses_socket(server) as socket:
        events = send(
            socket,
            history,
            tool_choice={"type": "custom", "name": "apply_patch"},
            max_output_tokens=120,
        )
        first = ended(events)
        (patch,) = first["output"]
        assert patch["type"] == "custom_tool_call" and patch["name"] == "apply_patch"
        assert re.fullmatch(PATCH_PATTERN, patch["input"]), patch["input"]
        types = [event["type"] for event in events]
        assert "response.custom_tool_call_input.delta" in types
        assert "response.custom_tool_call_input.done" in types

        history += [
            sealed_reasoning("I should apply a patch that creates hello.txt."),
            patch,
            {"type": "custom_tool_call_output", "call_id": patch["call_id"], "output": "Done!"},
        ]
        second = ended(
            send(
                socket,
                history,
                tool_choice={"type": "function", "name": "shell"},
                max_output_tokens=96,
            )
        )
        (shell,) = second["output"]
        assert shell["type"] == "function_call" and shell["name"] == "shell"
        command = json.loads(shell["arguments"])["command"]
        assert isinstance(command, list) and all(isinstance(part, str) for part in command)

        # The socket remembers its last unstored response: only the new item goes.
        output = {"type": "function_call_output", "call_id": shell["call_id"], "output": "hi\n"}
        third = ended(
            send(socket, [output], previous_response_id=second["id"], max_output_tokens=24),
            cut_short_ok=True,
        )
        assert third["output"][-1]["type"] == "message"
        assert third["output"][-1]["content"][0]["text"].strip()
        # Its context held the whole conversation the second turn was given.
        assert third["usage"]["input_tokens"] > second["usage"]["input_tokens"]

    with httpx.Client(base_url=server, timeout=30) as http:
        for response in (first, second, third):  # store: false keeps nothing
            assert http.get(f"/responses/{response['id']}").status_code == 404


def test_an_altered_reasoning_blob_is_an_error_event_and_the_socket_stays(server: str) -> None:
    reasoning = sealed_reasoning("A thought.")
    blob = reasoning["encrypted_content"]
    reasoning["encrypted_content"] = blob[:-3] + ("xyz" if not blob.endswith("xyz") else "abc")
    with responses_socket(server) as socket:
        (error,) = send(socket, [{"role": "user", "content": TASK}, reasoning])
        assert error["type"] == "error" and error["status"] == 400, error
        spec.assert_valid("WebSocketErrorEvent", error)
        assert error["error"]["param"] == "input[1].encrypted_content", error
        assert error["error"]["code"] == "invalid_encrypted_content", error
        again = ended(
            send(socket, [{"role": "user", "content": "Say hi."}], max_output_tokens=16),
            cut_short_ok=True,
        )
        assert again["output"][0]["content"][0]["text"].strip()
