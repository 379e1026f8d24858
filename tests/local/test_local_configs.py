"""The local model under configurations: a queue that is full, a remote upstream beside it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import openai
import pytest

from relaystack.app import build_app
from relaystack.config import parse_config
from relaystack.ids import Clock, IdSource
from relaystack.testing.server import ServerThread
from tests.local.support import chat

CHAT_MODEL = "local/smollm2-135m-instruct"


@pytest.fixture
def one_at_a_time(tmp_path: Path) -> Iterator[str]:
    config = parse_config(
        {
            # No waiting room: while one request generates, the next is turned away.
            "providers": [{"type": "local", "max_queue": 0}],
            "storage": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
        }
    )
    with ServerThread(build_app(config)) as thread:
        yield f"{thread.url}/v1"


def test_requests_beyond_the_queue_get_503_while_the_model_is_busy(one_at_a_time: str) -> None:
    generating = threading.Event()
    release = threading.Event()

    def long_stream() -> None:
        body = {
            "model": CHAT_MODEL,
            "input": "Write a very long essay about the Roman Empire.",
            "max_output_tokens": 1500,
            "stream": True,
        }
        with (
            httpx.Client(base_url=one_at_a_time, timeout=60) as client,
            client.stream("POST", "/responses", json=body) as response,
        ):
            for line in response.iter_lines():
                if "response.output_text.delta" in line:
                    generating.set()
                    release.wait(timeout=60)
                    return  # closing the stream frees the model

    worker = threading.Thread(target=long_stream)
    worker.start()
    try:
        assert generating.wait(timeout=60), "the first request never started generating"
        with httpx.Client(base_url=one_at_a_time, timeout=60) as client:
            chat = client.post(
                "/chat/completions",
                json={"model": CHAT_MODEL, "messages": [{"role": "user", "content": "Hi"}]},
            )
            response = client.post("/responses", json={"model": CHAT_MODEL, "input": "Hi"})
            streamed = client.post(
                "/responses", json={"model": CHAT_MODEL, "input": "Hi", "stream": True}
            )
            health = client.get("/health")
    finally:
        release.set()
        worker.join(timeout=60)
    # Streamed or not, the refusal comes before any event: a plain 503.
    for refused in (chat, response, streamed):
        assert refused.status_code == 503, refused.text
        error = refused.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["code"] == "server_overloaded"
    assert health.status_code == 200


def test_one_config_serves_the_local_model_beside_a_remote_upstream(tmp_path: Path) -> None:
    from tests.support.mock_upstream import MockUpstream

    mock = MockUpstream()
    with ServerThread(mock.app) as upstream:
        config = parse_config(
            {
                "providers": [
                    {"type": "local"},
                    {
                        "id": "remote",
                        "type": "openai-compatible",
                        "base_url": f"{upstream.url}/v1",
                        "models": ["mock-model"],
                    },
                ],
                "storage": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
            }
        )
        with (
            ServerThread(build_app(config)) as server,
            httpx.Client(base_url=f"{server.url}/v1", timeout=60) as client,
        ):
            models = {model["id"] for model in client.get("/models").json()["data"]}
            assert {CHAT_MODEL, "remote/mock-model"} <= models
            remote = client.post(
                "/responses", json={"model": "remote/mock-model", "input": "ping"}
            ).json()
            local = client.post(
                "/responses",
                json={"model": CHAT_MODEL, "input": "Say hi.", "max_output_tokens": 16},
            ).json()
    assert remote["output"][0]["content"][0]["text"] == "echo: ping"
    assert mock.requests[-1]["model"] == "mock-model"
    assert local["status"] in ("completed", "incomplete")
    assert local["output"][0]["content"][0]["text"].strip()
    assert len(mock.requests) == 1  # the local turn never went upstream


def test_responses_echo_the_sampling_the_local_model_used(tmp_path: Path) -> None:
    config = parse_config(
        {
            "providers": [{"type": "local"}],
            "storage": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
        }
    )
    body = {"model": CHAT_MODEL, "input": "Say hi.", "max_output_tokens": 16}
    with (
        ServerThread(build_app(config)) as server,
        httpx.Client(base_url=f"{server.url}/v1", timeout=60) as client,
    ):
        defaulted = client.post("/responses", json=body).json()
        chosen = client.post("/responses", json={**body, "temperature": 0.7, "top_p": 0.5}).json()
    # Unset, the small model samples cooler than OpenAI's 1.0, and says so.
    assert (defaulted["temperature"], defaulted["top_p"]) == (0.2, 0.95)
    assert (chosen["temperature"], chosen["top_p"]) == (0.7, 0.5)


def test_the_local_model_takes_its_ids_and_clock_from_the_app(tmp_path: Path) -> None:
    made: list[str] = []

    def next_id(prefix: str) -> str:
        made.append(f"{prefix}fixed{len(made)}")
        return made[-1]

    config = parse_config(
        {
            "providers": [{"type": "local"}],
            "storage": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
        }
    )
    app = build_app(config, ids=IdSource(next_id), clock=Clock(lambda: 1234567890.5))
    body = {**chat("Say hi.", max_tokens=3), "model": CHAT_MODEL}
    with ServerThread(app) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
        whole = client.chat.completions.create(**body)
        chunks = list(client.chat.completions.create(**body, stream=True))
    assert (whole.id, whole.created) == ("chatcmpl-fixed0", 1234567890)
    assert {(chunk.id, chunk.created) for chunk in chunks} == {("chatcmpl-fixed1", 1234567890)}


def test_a_json_request_whose_client_leaves_frees_the_model(tmp_path: Path) -> None:
    config = parse_config(
        {
            "providers": [{"type": "local"}],
            "storage": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
        }
    )
    app = build_app(config)
    long = "Write a very long essay about the Roman Empire."
    with ServerThread(app) as server:
        base = f"{server.url}/v1"
        worker = app.state.models.providers[0]._worker
        requests = [
            ("/responses", {"model": CHAT_MODEL, "input": long, "max_output_tokens": 1500}),
            (
                "/chat/completions",
                {
                    "model": CHAT_MODEL,
                    "messages": [{"role": "user", "content": long}],
                    "max_completion_tokens": 1500,
                },
            ),
        ]
        for path, body in requests:
            # The client gives up after half a second: far less than 1500 tokens take.
            with pytest.raises(httpx.ReadTimeout):
                httpx.post(f"{base}{path}", json=body, timeout=httpx.Timeout(60, read=0.5))
            # Generous liveness bound: had generation gone on, it would hold the model
            # for tens of seconds.
            _wait_until(lambda: not worker.busy, seconds=10)
        newest = httpx.get(f"{base}/responses", params={"limit": 1}).json()["data"][0]
    assert newest["status"] == "cancelled"


def _wait_until(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the model was not freed"
        time.sleep(0.05)
