"""``/metrics`` after known traffic: the counts match what was sent, and it is closed
to everyone but admins when keys are configured (unless the config opens it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from relaystack.app import build_app
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread, free_port
from tests.support.stack import ServeProcess, stack_config, stack_settings, write_config

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(base_url: str, headers: dict[str, str] | None = None) -> Samples:
    reply = httpx.get(f"{base_url}/metrics", headers=headers or {})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def own_server(upstream: MockUpstream, tmp_path: Path) -> Iterator[str]:
    """A server of its own, so that its counts are this test's traffic alone."""
    config = stack_config(upstream.base_url, f"sqlite:///{tmp_path / 'metrics.db'}")
    with ServerThread(build_app(config)) as thread:
        yield thread.url


def requests_total(samples: Samples, route: str, method: str, status: int, model: str) -> float:
    labels = {"route": route, "method": method, "status": str(status), "model": model}
    return value(samples, "relaystack_requests_total", **labels)


def test_counts_after_known_traffic(own_server: str, upstream: MockUpstream) -> None:
    client = openai.OpenAI(base_url=f"{own_server}/v1", api_key="sk-unused", max_retries=0)
    upstream.queue(Reply(content=["a", "b", "c"]), Reply(content=["d"]))
    client.responses.create(model="openai/gpt-4o", input="one")
    with client.responses.create(model="openai/gpt-4o", input="two", stream=True) as stream:
        assert [event.type for event in stream][-1] == "response.completed"
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="openai/nope", input="x")
    hello = [{"role": "user", "content": "hi there"}]
    client.chat.completions.create(model="openai/mock-model", messages=hello)
    streamed = client.chat.completions.create(
        model="openai/mock-model",
        messages=hello,
        stream=True,
        stream_options={"include_usage": True},
    )
    assert [chunk.usage for chunk in streamed][-1] is not None
    assert httpx.get(f"{own_server}/v1/nowhere").status_code == 404

    samples = scrape(own_server)
    gpt, mock = "openai/gpt-4o", "openai/mock-model"
    assert requests_total(samples, "/v1/responses", "POST", 200, gpt) == 2
    assert requests_total(samples, "/v1/responses", "POST", 404, "") == 1
    assert requests_total(samples, "/v1/chat/completions", "POST", 200, mock) == 2
    assert requests_total(samples, "unmatched", "GET", 404, "") == 1
    responses = {"route": "/v1/responses", "method": "POST"}
    assert value(samples, "relaystack_request_duration_seconds_count", **responses) == 3
    for model in (gpt, mock):
        upstream_calls = value(
            samples, "relaystack_upstream_duration_seconds_count", model=model, outcome="ok"
        )
        first_tokens = value(samples, "relaystack_time_to_first_token_seconds_count", model=model)
        # A chat completion asked for as JSON has no first token to time.
        assert (upstream_calls, first_tokens) == ((2, 2) if model == gpt else (2, 1))
    tokens = {
        (sample_labels["model"], sample_labels["direction"]): count
        for (name, labels), count in samples.items()
        if name == "relaystack_tokens_total"
        and (sample_labels := dict(labels))["owner"] == "default"
    }
    # 11 in per call (the mock's usage); out: "a b c", "d", and twice "echo:", " hi", " there".
    assert tokens == {(gpt, "input"): 22, (gpt, "output"): 4, (mock, "input"): 22,
                      (mock, "output"): 6}  # fmt: skip
    saves = value(samples, "relaystack_store_operation_duration_seconds_count",
                  operation="save_response")  # fmt: skip
    assert saves == 2
    # The first scrape is counted by the second.
    assert requests_total(scrape(own_server), "/metrics", "GET", 200, "") == 1


def test_only_admins_read_metrics_when_keys_are_configured(
    upstream: MockUpstream, tmp_path: Path
) -> None:
    keys = [{"key": "sk-ops", "owner": "ops"}, {"key": "sk-team", "owner": "team"}]
    config = stack_config(
        upstream.base_url,
        f"sqlite:///{tmp_path / 'closed.db'}",
        auth={"keys": keys},
        operations={"admins": ["ops"]},
    )
    with ServerThread(build_app(config)) as thread:
        assert httpx.get(f"{thread.url}/metrics").status_code == 401
        refused = httpx.get(f"{thread.url}/metrics", headers={"Authorization": "Bearer sk-team"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "insufficient_permissions"
        scrape(thread.url, {"Authorization": "Bearer sk-ops"})


def test_config_can_open_metrics_or_turn_them_off(upstream: MockUpstream, tmp_path: Path) -> None:
    auth = {"keys": [{"key": "sk-team", "owner": "team"}]}
    opened = stack_config(
        upstream.base_url,
        f"sqlite:///{tmp_path / 'open.db'}",
        auth=auth,
        operations={"metrics": {"public": True}},
    )
    with ServerThread(build_app(opened)) as thread:
        scrape(thread.url)
    off = stack_config(
        upstream.base_url,
        f"sqlite:///{tmp_path / 'off.db'}",
        operations={"metrics": {"enabled": False}},
    )
    with ServerThread(build_app(off)) as thread:
        reply = httpx.get(f"{thread.url}/metrics")
        assert reply.status_code == 404
        assert reply.json()["error"]["message"].startswith("Metrics are off")


def test_multi_process_mode_reads_the_shared_files(upstream: MockUpstream, tmp_path: Path) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    settings = stack_settings(upstream.base_url, f"sqlite:///{tmp_path / 'mp.db'}")
    config = write_config(tmp_path / "relaystack.yaml", settings)
    process = ServeProcess(
        config,
        free_port(),
        tmp_path / "serve.log",
        env={"PROMETHEUS_MULTIPROC_DIR": str(shared)},
    )
    try:
        process.wait_ready()
        client = openai.OpenAI(base_url=process.url, api_key="x", max_retries=0)
        client.responses.create(model="openai/gpt-4o", input="one")
        samples = scrape(process.url.removesuffix("/v1"))
    finally:
        process.stop()
    assert requests_total(samples, "/v1/responses", "POST", 200, "openai/gpt-4o") == 1
    assert any(path.suffix == ".db" for path in shared.iterdir())  # the worker's own file
