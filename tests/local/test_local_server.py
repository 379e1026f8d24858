"""End to end: ``relaystack serve`` with no configuration, the real SmolLM2 model, the
``openai`` SDK.

One real ``python -m relaystack serve --port P`` child process is shared by the whole
session; HOME and the XDG directories point into a temporary directory, so the default
state (SQLite in the user's data dir) never touches the real one. No mocks anywhere.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import openai
import pytest

from relaystack.testing.server import free_port
from tests.support.sockets import responses_socket, turn
from tests.support.spec import check_stream_contract

CHAT_MODEL = "local/smollm2-135m-instruct"
EMBEDDING_MODEL = "local/multilingual-e5-small"
# Every client call is bounded by this (or FREED_TIMEOUT); no other time is measured.
CLIENT_TIMEOUT = 60.0
# The request after a closed stream: generous for 8 tokens, short of the ~45 s the
# abandoned 1900-token answer would take if it still held the model.
FREED_TIMEOUT = 30.0
START_TIMEOUT = 180.0
LONG = "Write a very long and detailed essay about the history of the Roman Empire."

PLANET_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 30},
        "has_rings": {"type": "boolean"},
    },
    "required": ["name", "has_rings"],
    "additionalProperties": False,
}


@dataclass
class LocalServer:
    url: str  # ends in /v1
    port: int
    home: Path
    data_home: Path
    log_file: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")


def _wait_healthy(server: LocalServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"relaystack serve exited early:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"relaystack serve did not become healthy:\n{server.log()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # Only the child this fixture started, through its own handle.
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    root = tmp_path_factory.mktemp("zero-config")
    home, data_home = root / "home", root / "data"
    home.mkdir()
    data_home.mkdir()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("RELAYSTACK_", "XDG_"))
    }
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(data_home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        PYTHONUNBUFFERED="1",
    )
    port = free_port()
    log_file = root / "serve.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "relaystack", "serve", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
        )
    server = LocalServer(
        url=f"http://127.0.0.1:{port}/v1",
        port=port,
        home=home,
        data_home=data_home,
        log_file=log_file,
        process=process,
    )
    try:
        _wait_healthy(server)
        yield server
    finally:
        _stop(process)


@pytest.fixture
def client(local_server: LocalServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=local_server.url, api_key="unused", max_retries=0, timeout=CLIENT_TIMEOUT
    ) as sdk:
        yield sdk


def _check_response_usage(response: Any, max_output_tokens: int) -> None:
    usage = response.usage
    assert usage is not None
    assert usage.input_tokens > 0
    assert usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.output_tokens <= max_output_tokens
    # Cut short only by the limit it was given, and then said so.
    assert response.status in {"completed", "incomplete"}
    if response.status == "incomplete":
        assert response.incomplete_details.reason == "max_output_tokens"
        assert usage.output_tokens == max_output_tokens


def _check_chat_usage(usage: Any, max_tokens: int) -> None:
    assert usage is not None
    assert usage.prompt_tokens > 0
    assert 0 < usage.completion_tokens <= max_tokens
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


# --- start-up ---------------------------------------------------------------------------


def test_start_up_lines_name_address_models_and_state(local_server: LocalServer) -> None:
    log = local_server.log()
    assert f"http://127.0.0.1:{local_server.port}/v1" in log
    assert CHAT_MODEL in log
    assert EMBEDDING_MODEL in log
    # State defaults to SQLite in the (temporary) user data dir, and the line says where.
    databases = list(local_server.data_home.rglob("relaystack.db"))
    assert len(databases) == 1, f"no state file under {local_server.data_home}:\n{log}"
    assert databases[0].is_file()
    assert str(databases[0]) in log


def test_models_lists_chat_and_embedding_model(client: openai.OpenAI) -> None:
    ids = [model.id for model in client.models.list()]
    assert CHAT_MODEL in ids
    assert EMBEDDING_MODEL in ids
    assert client.models.retrieve(CHAT_MODEL).id == CHAT_MODEL


# --- /v1/responses ----------------------------------------------------------------------


def test_response(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model=CHAT_MODEL, input="Name a planet with rings.", max_output_tokens=16
    )
    assert response.model == CHAT_MODEL
    assert response.output_text.strip()
    _check_response_usage(response, 16)
    # Stored by default, in the zero-config SQLite file.
    assert client.responses.retrieve(response.id).output_text == response.output_text


def test_streamed_response(client: openai.OpenAI) -> None:
    deltas: list[str] = []
    final = None
    with client.responses.create(
        model=CHAT_MODEL, input="Name a planet with rings.", max_output_tokens=16, stream=True
    ) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
            elif event.type in {"response.completed", "response.incomplete"}:
                final = event.response
    assert final is not None
    text = "".join(deltas)
    assert text.strip()
    assert final.output_text == text
    _check_response_usage(final, 16)


def test_json_schema_response_validates(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model=CHAT_MODEL,
        input="Name a planet and say whether it has rings.",
        max_output_tokens=60,
        text={
            "format": {
                "type": "json_schema",
                "name": "planet",
                "schema": PLANET_SCHEMA,
                "strict": True,
            }
        },
    )
    assert response.status == "completed", response.incomplete_details
    jsonschema.validate(json.loads(response.output_text), PLANET_SCHEMA)
    _check_response_usage(response, 60)


def test_follow_up_with_previous_response_id(client: openai.OpenAI) -> None:
    first = client.responses.create(
        model=CHAT_MODEL, input="My name is Ada. Say hello to me.", max_output_tokens=16
    )
    second = client.responses.create(
        model=CHAT_MODEL,
        input="What is my name?",
        previous_response_id=first.id,
        max_output_tokens=16,
    )
    assert second.previous_response_id == first.id
    assert second.output_text.strip()
    _check_response_usage(second, 16)
    # The second turn's context is the first turn's input and output plus the new input.
    assert second.usage.input_tokens > first.usage.input_tokens


# --- /v1/chat/completions ---------------------------------------------------------------


def test_chat_completion(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Say hello."}],
        max_tokens=12,
    )
    assert completion.choices[0].message.content.strip()
    _check_chat_usage(completion.usage, 12)


def test_streamed_chat_completion(client: openai.OpenAI) -> None:
    pieces: list[str] = []
    usage = None
    stream = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Say hello."}],
        max_tokens=12,
        stream=True,
        stream_options={"include_usage": True},
    )
    with stream:
        for chunk in stream:
            if chunk.choices:
                pieces.append(chunk.choices[0].delta.content or "")
            if chunk.usage is not None:
                usage = chunk.usage
    assert "".join(pieces).strip()
    _check_chat_usage(usage, 12)


# --- /v1/embeddings ---------------------------------------------------------------------


def test_embedding(client: openai.OpenAI) -> None:
    result = client.embeddings.create(model=EMBEDDING_MODEL, input="A planet with rings.")
    assert len(result.data) == 1
    vector = result.data[0].embedding
    assert len(vector) > 0
    assert all(math.isfinite(value) for value in vector)
    assert any(value != 0 for value in vector)
    assert result.usage.prompt_tokens > 0


# --- scheduling over HTTP ---------------------------------------------------------------


async def test_two_concurrent_requests_both_complete(local_server: LocalServer) -> None:
    async with openai.AsyncOpenAI(
        base_url=local_server.url, api_key="unused", max_retries=0, timeout=CLIENT_TIMEOUT
    ) as sdk:
        first, second = await asyncio.gather(
            sdk.responses.create(model=CHAT_MODEL, input="Say hello.", max_output_tokens=16),
            sdk.chat.completions.create(
                model=CHAT_MODEL,
                messages=[{"role": "user", "content": "Say goodbye."}],
                max_tokens=12,
            ),
        )
    assert first.output_text.strip()
    _check_response_usage(first, 16)
    assert second.choices[0].message.content.strip()
    _check_chat_usage(second.usage, 12)


def test_health_answers_while_generating(client: openai.OpenAI, local_server: LocalServer) -> None:
    deltas_after_health = 0
    final = None
    with client.responses.create(
        model=CHAT_MODEL, input=LONG, max_output_tokens=120, stream=True
    ) as stream:
        events = iter(stream)
        # Generation is under way once the first text arrives.
        for event in events:
            if event.type == "response.output_text.delta":
                break
        health = httpx.get(f"{local_server.url}/health", timeout=10)
        assert health.status_code == 200
        for event in events:
            if event.type == "response.output_text.delta":
                deltas_after_health += 1
            elif event.type in {"response.completed", "response.incomplete"}:
                final = event.response
    # The same generation went on after health answered: it was running meanwhile.
    assert deltas_after_health > 0
    assert final is not None
    _check_response_usage(final, 120)


def test_closed_stream_frees_the_model(client: openai.OpenAI) -> None:
    # Context size is 2048: about 2000 tokens, far longer than the test ever waits.
    stream = client.responses.create(
        model=CHAT_MODEL, input=LONG, max_output_tokens=1900, stream=True
    )
    response_id = None
    deltas: list[str] = []
    for event in stream:
        if event.type == "response.created":
            response_id = event.response.id
        elif event.type == "response.output_text.delta":
            deltas.append(event.delta)
            if len(deltas) == 3:
                break
    stream.close()  # drops the connection mid-generation
    assert response_id is not None

    # The next request gets the model: it completes within the client's timeout. Had the
    # abandoned answer kept the model, this would wait for ~1900 tokens (about 45 s at
    # SmolLM2's ~40 tokens/s on two cores), past that timeout; an 8-token answer takes
    # well under a second.
    after = client.with_options(timeout=FREED_TIMEOUT).responses.create(
        model=CHAT_MODEL, input="Say hi.", max_output_tokens=16
    )
    assert after.output_text.strip()
    _check_response_usage(after, 16)

    # The server saw the disconnect and stored the abandoned response as cancelled.
    stored = None
    deadline = time.monotonic() + CLIENT_TIMEOUT
    while time.monotonic() < deadline:
        try:
            stored = client.responses.retrieve(response_id)
        except openai.NotFoundError:
            stored = None  # saved in the background; not there yet
        if stored is not None:
            break
        time.sleep(0.1)
    assert stored is not None
    assert stored.status == "cancelled"
    # What the client was sent is kept, in an item marked incomplete.
    assert stored.output[0].status == "incomplete"
    assert stored.output_text.startswith("".join(deltas))


# --- WebSocket mode ---------------------------------------------------------------------


def test_websocket_turns_chain_unstored_responses_on_the_embedded_model(
    local_server: LocalServer, client: openai.OpenAI
) -> None:
    with responses_socket(local_server.url) as socket:
        first = turn(
            socket,
            model=CHAT_MODEL,
            input="My name is Ada. Say hello to me.",
            store=False,
            max_output_tokens=16,
        )
        second = turn(
            socket,
            model=CHAT_MODEL,
            input="What is my name?",
            store=False,
            max_output_tokens=16,
            previous_response_id=first[-1]["response"]["id"],
        )
    for events in (first, second):
        check_stream_contract(events)
        assert events[-1]["type"] in ("response.completed", "response.incomplete")
        assert events[-1]["response"]["output"][0]["content"][0]["text"].strip()
    # The second turn's context held the first turn's input and output.
    first_usage, second_usage = first[-1]["response"]["usage"], second[-1]["response"]["usage"]
    assert second_usage["input_tokens"] > first_usage["input_tokens"] + first_usage["output_tokens"]
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first[-1]["response"]["id"])
