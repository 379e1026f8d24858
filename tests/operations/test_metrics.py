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
from tests.support.servers import ServerThread
from tests.support.stack import stack_config

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


def test_counts_after_known_traffic(own_server: str, upstream: MockUpstream) -> None:
    client = openai.OpenAI(base_url=f"{own_server}/v1", api_key="sk-unused", max_retries=0)
    upstream.queue(Reply(content=["a", "b", "c"]), Reply(content=["d"]))
    client.responses.create(model="openai/gpt-4o", input="one")
    client.responses.create(model="openai/gpt-4o", input="two", stream=True).close()
    for _event in client.responses.create(model="openai/gpt-4o", input="three", stream=True):
        pass
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="openai/nope", input="x")
    client.chat.completions.create(
        model="openai/mock-model", messages=[{"role": "user", "content": "hi there"}]
    )
    httpx.get(f"{own_server}/v1/nowhere")

    samples = scrape(own_server)
    route = {"route": "/v1/responses", "method": "POST"}
    # The second stream was closed by the client after its first frames: still a 200.
    assert value(samples, "relaystack_requests_total", **route, status="200",
                 model="openai/gpt-4o") == 3  # fmt: skip
    assert value(samples, "relaystack_requests_total", **route, status="404", model="") == 1
    assert value(samples, "relaystack_requests_total", route="/v1/chat/completions",
                 method="POST", status="200", model="openai/mock-model") == 1  # fmt: skip
    assert value(samples, "relaystack_requests_total", route="unmatched", method="GET",
                 status="404", model="") == 1  # fmt: skip
    assert value(samples, "relaystack_request_duration_seconds_count", **route) == 4
    assert value(samples, "relaystack_upstream_duration_seconds_count",
                 model="openai/gpt-4o", outcome="ok") in (2, 3)  # fmt: skip
    assert value(samples, "relaystack_time_to_first_token_seconds_count",
                 model="openai/gpt-4o") in (2, 3)  # fmt: skip
    gpt = {"model": "openai/gpt-4o", "owner": "default"}
    assert value(samples, "relaystack_tokens_total", **gpt, direction="input") in (22, 33)
    # "a b c", maybe "d" (unless the closed stream was cut before its usage chunk), then
    # the echo of "three" in two pieces ("echo:", " three").
    assert value(samples, "relaystack_tokens_total", **gpt, direction="output") in (5, 6)
    mock = {"model": "openai/mock-model", "owner": "default"}
    assert value(samples, "relaystack_tokens_total", **mock, direction="input") == 11
    assert value(samples, "relaystack_store_operation_duration_seconds_count",
                 operation="save_response") >= 2  # fmt: skip
    # The first scrape is counted by the second.
    again = scrape(own_server)
    assert value(again, "relaystack_requests_total", route="/metrics", method="GET",
                 status="200", model="") == 1  # fmt: skip


def test_a_closed_stream_still_reports_its_upstream_call(
    own_server: str, upstream: MockUpstream
) -> None:
    client = openai.OpenAI(base_url=f"{own_server}/v1", api_key="sk-unused", max_retries=0)
    for _ in client.responses.create(model="openai/gpt-4o", input="whole", stream=True):
        pass
    samples = scrape(own_server)
    assert value(samples, "relaystack_upstream_duration_seconds_count",
                 model="openai/gpt-4o", outcome="ok") == 1  # fmt: skip
    assert value(samples, "relaystack_time_to_first_token_seconds_count",
                 model="openai/gpt-4o") == 1  # fmt: skip


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
