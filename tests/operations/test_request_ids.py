"""Every response carries ``x-request-id``, and ``--log-format json`` logs one line per
request with its owner, model, status, timings and the upstream's own request id."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import openai

from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import free_port
from tests.support.stack import ServeProcess, stack_settings, write_config

GENERATED = re.compile(r"req_[0-9a-f]{32}")


def test_a_well_formed_client_id_is_kept_and_others_are_replaced(server: str) -> None:
    with httpx.Client(base_url=server) as http:
        kept = http.get("/models", headers={"x-request-id": "client-trace:42/a"})
        assert kept.headers["x-request-id"] == "client-trace:42/a"
        for bad in ("has spaces in it", "x" * 200, "<script>"):
            replaced = http.get("/models", headers={"x-request-id": bad})
            assert GENERATED.fullmatch(replaced.headers["x-request-id"]), bad
        first, second = http.get("/models"), http.get("/models")
        assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_errors_carry_the_id_too(server: str) -> None:
    with httpx.Client(base_url=server) as http:
        missing = http.get("/responses/resp_nope", headers={"x-request-id": "abc-1"})
        assert missing.status_code == 404
        assert missing.headers["x-request-id"] == "abc-1"
        bad = http.post("/responses", json={"model": 7})
        assert bad.status_code == 400
        assert GENERATED.fullmatch(bad.headers["x-request-id"])
        unrouted = http.get("/../nowhere")
        assert "x-request-id" in unrouted.headers


def test_the_sdk_sees_the_id_of_a_streamed_turn(client: openai.OpenAI) -> None:
    with client.responses.with_streaming_response.create(
        model="openai/gpt-4o", input="hi", stream=True, extra_headers={"x-request-id": "s-1"}
    ) as reply:
        assert reply.headers["x-request-id"] == "s-1"
        assert any(line.startswith("event: response.completed") for line in reply.iter_lines())


def test_json_log_lines_name_owner_model_status_and_upstream_id(
    upstream: MockUpstream, tmp_path: Path
) -> None:
    settings = stack_settings(
        upstream.base_url,
        f"sqlite:///{tmp_path / 'log.db'}",
        auth={"keys": [{"key": "sk-team-a", "owner": "team-a"}]},
    )
    config = write_config(tmp_path / "relaystack.yaml", settings)
    log_file = tmp_path / "serve.log"
    process = ServeProcess(
        config, free_port(), log_file, "--log-format", "json", "--log-level", "info"
    )
    try:
        process.wait_ready()
        client = openai.OpenAI(base_url=process.url, api_key="sk-team-a", max_retries=0)
        upstream.queue(Reply(content=["Sat", "urn"]))
        client.responses.create(
            model="openai/gpt-4o", input="a ringed planet?", extra_headers={"x-request-id": "t-9"}
        )
        line = _wait_for_line(log_file, "t-9")
    finally:
        process.stop()
    assert line["message"] == "request"
    assert line["level"] == "info"
    assert line["method"] == "POST" and line["path"] == "/v1/responses"
    assert line["status"] == 200
    assert line["owner"] == "team-a"
    assert line["model"] == "openai/gpt-4o"
    assert line["upstream_request_ids"] == [f"mock-req-{len(upstream.requests)}"]
    assert line["input_tokens"] == 11 and line["output_tokens"] == 2
    assert 0 < line["ttft_ms"] <= line["duration_ms"]
    assert 0 < line["upstream_ms"] <= line["duration_ms"]
    # Every log record is JSON, uvicorn's own included (the start-up banner is not a log
    # record: it is printed as it is in every format).
    records = [t for t in log_file.read_text().splitlines() if not t.startswith("relaystack")]
    assert any(json.loads(text)["logger"] == "uvicorn.error" for text in records)


def _wait_for_line(log_file: Path, request_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for text in log_file.read_text().splitlines():
            if f'"{request_id}"' in text:
                return json.loads(text)
        time.sleep(0.05)
    raise AssertionError(f"no log line for {request_id}:\n{log_file.read_text()}")
