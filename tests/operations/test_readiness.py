"""``/v1/ready``: 200 while the store answers, 503 when it does not, and each upstream's
last call; ``/v1/health`` stays a plain liveness answer."""

from __future__ import annotations

from pathlib import Path

import httpx

from relaystack.app import build_app
from tests.support import postgres
from tests.support.mock_upstream import MockUpstream, Reply, every_attempt
from tests.support.servers import ServerThread
from tests.support.stack import stack_config


def test_upstreams_are_reported_by_their_last_call(upstream: MockUpstream, tmp_path: Path) -> None:
    config = stack_config(
        upstream.base_url,
        f"sqlite:///{tmp_path / 'ready.db'}",
        auth={"keys": [{"key": "sk-a", "owner": "a"}]},
    )
    with ServerThread(build_app(config)) as thread, httpx.Client(base_url=thread.url) as http:
        key = {"Authorization": "Bearer sk-a"}

        def last_call() -> dict[str, object]:
            reply = http.get("/v1/ready")  # no key needed: probes have none
            assert reply.status_code == 200, reply.text
            body = reply.json()
            assert body["status"] == "ready"
            assert body["store"]["ok"] is True
            return body["upstreams"]["openai"]

        assert last_call() == {"answered": None, "at": None, "error": None}
        turn = {"model": "openai/gpt-4o", "input": "hi"}
        assert http.post("/v1/responses", json=turn, headers=key).status_code == 200
        assert last_call()["answered"] is True
        upstream.queue(*every_attempt(Reply(status=503, error_body={"error": {"message": "down"}})))
        assert http.post("/v1/responses", json=turn, headers=key).status_code == 502
        assert last_call() == {
            "answered": False,
            "at": last_call()["at"],
            "error": "upstream_error",
        }
        # A 4xx is an answer: the upstream is up, the request was wrong.
        upstream.queue(Reply(status=400, error_body={"error": {"message": "bad", "code": "x"}}))
        assert http.post("/v1/responses", json=turn, headers=key).status_code == 400
        assert last_call()["answered"] is True
        assert http.get("/v1/health").json() == {"status": "OK"}


def test_not_ready_when_the_store_is_gone(upstream: MockUpstream, fresh_postgres_url: str) -> None:
    config = stack_config(upstream.base_url, fresh_postgres_url)
    with ServerThread(build_app(config)) as thread, httpx.Client(base_url=thread.url) as http:
        assert http.get("/v1/ready").status_code == 200
        postgres.drop_database(fresh_postgres_url.rsplit("/", 1)[1])
        reply = http.get("/v1/ready", timeout=30)
        assert reply.status_code == 503
        body = reply.json()
        assert body["status"] == "not_ready"
        assert body["store"]["ok"] is False and body["store"]["error"]
        assert http.get("/v1/health").status_code == 200
