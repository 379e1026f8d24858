"""A real loopback upstream for the recording tests, and helpers shared by them.

The mock speaks enough of the OpenAI API (chat completions as JSON and SSE with a
usage chunk, embeddings, models, an error) on 127.0.0.1; ids and timestamps change on
every call, as a real upstream's do, so normalisation is actually exercised.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from relaystack.recording import RecordingTransport
from relaystack.recording.context import current_test_id

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = (REPO_ROOT / ".." / "shared" / "fixtures" / "recordings").resolve()
SEED_TEST_ID = (
    "tests/integration/responses/test_basic_responses.py::"
    "test_response_non_streaming_basic[client_with_models-txt=openai/gpt-4o-saturn]"
)
UNUSED_PORT_URL = "http://127.0.0.1:9/v1"  # discard port: nothing answers there


class MockUpstream:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.stream_script: list[dict[str, Any]] | None = None  # chunks to stream verbatim
        self.calls = 0  # chat calls so far; goes into answers so repeats differ
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        self._stopped = False

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()


def _handler_for(upstream: MockUpstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            upstream.requests.append(
                {"method": "GET", "path": self.path, "headers": dict(self.headers)}
            )
            if self.path == "/v1/models":
                models = [
                    {"id": "mock-b", "object": "model", "created": 1700000001, "owned_by": "mock"},
                    {"id": "mock-a", "object": "model", "created": 1700000000, "owned_by": "mock"},
                ]
                self._json(200, {"object": "list", "data": models})
            else:
                self._json(
                    404, {"error": {"message": "no such path", "type": "invalid_request_error"}}
                )

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            upstream.requests.append(
                {"method": "POST", "path": self.path, "body": body, "headers": dict(self.headers)}
            )
            if body.get("model") == "bad-model":
                error = {
                    "message": "The model `bad-model` does not exist.",
                    "type": "invalid_request_error",
                    "param": "model",
                    "code": "model_not_found",
                }
                self._json(400, {"error": error})
            elif self.path == "/v1/embeddings":
                inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                data = [
                    {"object": "embedding", "index": i, "embedding": [0.125, -0.5, float(i)]}
                    for i in range(len(inputs))
                ]
                usage = {"prompt_tokens": 3, "total_tokens": 3}
                self._json(
                    200, {"object": "list", "data": data, "model": body["model"], "usage": usage}
                )
            elif self.path == "/v1/chat/completions":
                upstream.calls += 1
                if body.get("stream"):
                    self._stream(upstream.stream_script or _chunks(body, upstream.calls))
                else:
                    self._json(200, _completion(body, upstream.calls))
            else:
                self._json(
                    404, {"error": {"message": "no such path", "type": "invalid_request_error"}}
                )

        def _json(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, chunks: list[dict[str, Any]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.end_headers()  # HTTP/1.0: the body ends when the connection closes
            for chunk in chunks:
                self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")

    return Handler


def _answer(body: dict[str, Any], n: int) -> str:
    return f"answer #{n} to: {body['messages'][-1]['content']}"


def _completion(body: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": _answer(body, n)},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9},
    }


def _chunks(body: dict[str, Any], n: int) -> list[dict[str, Any]]:
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def chunk(choices: list[Any], usage: Any = None) -> dict[str, Any]:
        base = {"id": ident, "object": "chat.completion.chunk", "created": created}
        return {**base, "model": body["model"], "choices": choices, "usage": usage}

    words = _answer(body, n).split(" ")
    deltas = [{"role": "assistant", "content": ""}] + [
        {"content": w if i == 0 else " " + w} for i, w in enumerate(words)
    ]
    out = [chunk([{"index": 0, "delta": d, "finish_reason": None}]) for d in deltas]
    out.append(chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]))
    out.append(
        chunk(
            [],
            {"prompt_tokens": 5, "completion_tokens": len(words), "total_tokens": 5 + len(words)},
        )
    )
    return out


@contextmanager
def using_test_id(value: str | None) -> Iterator[None]:
    token = current_test_id.set(value)
    try:
        yield
    finally:
        current_test_id.reset(token)


def make_client(
    mode: str, directory: Path, base_url: str, **kwargs: Any
) -> tuple[httpx.AsyncClient, RecordingTransport]:
    transport = RecordingTransport(
        httpx.AsyncHTTPTransport(), mode=mode, directory=directory, base_url=base_url, **kwargs
    )
    client = httpx.AsyncClient(
        transport=transport, base_url=base_url, headers={"Authorization": "Bearer sk-secret-123"}
    )
    return client, transport


def sse_chunks(text: str) -> list[Any]:
    """The JSON chunks of an SSE body, checking it ends with [DONE]."""
    events = [e for e in text.split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    return [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
