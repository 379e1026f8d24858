"""Usage per owner, model and day: kept in the store by every replica, summed, and read
by admins at ``/v1/usage`` and by ``relaystack usage``; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import openai

from relaystack.app import build_app
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread
from tests.support.stack import stack_config, stack_settings, write_config

KEYS = [
    {"key": "sk-alice", "owner": "alice"},
    {"key": "sk-bob", "owner": "bob"},
    {"key": "sk-ops", "owner": "ops"},
]
OPS = {"Authorization": "Bearer sk-ops"}


def test_two_replicas_add_into_one_total(
    upstream: MockUpstream, empty_storage_url: str, tmp_path: Path
) -> None:
    settings = stack_settings(
        upstream.base_url,
        empty_storage_url,
        auth={"keys": KEYS},
        operations={"admins": ["ops"]},
    )
    config = stack_config(upstream.base_url, empty_storage_url, **_extra(settings))
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    with ServerThread(build_app(config)) as a, ServerThread(build_app(config)) as b:
        alice_a, alice_b, bob_b = (
            openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)
            for server, key in ((a, "sk-alice"), (b, "sk-alice"), (b, "sk-bob"))
        )
        upstream.queue(Reply(content=["x", "y"]), Reply(content=["z"]), Reply(content=["w"]))
        alice_a.responses.create(model="openai/gpt-4o", input="1")
        with alice_a.responses.create(model="openai/gpt-4o", input="2", stream=True) as stream:
            assert [event.type for event in stream][-1] == "response.completed"
        alice_b.responses.create(model="openai/gpt-4o", input="3")
        bob_b.chat.completions.create(
            model="openai/mock-model", messages=[{"role": "user", "content": "hi"}]
        )
        # B writes its counts within a second; A's own are written when it is asked.
        rows = _wait_for_usage(a.url, lambda rows: len(rows) == 2 and rows[0]["requests"] == 3)
        assert rows == [
            {
                "owner": "alice",
                "day": today,
                "model": "openai/gpt-4o",
                "requests": 3,
                "input_tokens": 33,
                "output_tokens": 4,  # "x y", "z", "w"
            },
            {
                "owner": "bob",
                "day": today,
                "model": "openai/mock-model",
                "requests": 1,
                "input_tokens": 11,
                "output_tokens": 2,  # the echo of "hi": "echo:", " hi"
            },
        ]
        only_bob = httpx.get(f"{a.url}/v1/usage", params={"owner": "bob"}, headers=OPS).json()
        assert [row["owner"] for row in only_bob["data"]] == ["bob"]
        later = httpx.get(f"{a.url}/v1/usage", params={"since": "2999-01-01"}, headers=OPS)
        assert later.json()["data"] == []

    config_file = write_config(tmp_path / "relaystack.yaml", settings)
    printed = _cli("usage", "--config", str(config_file), "--json", "--owner", "alice")
    assert [json.loads(line)["requests"] for line in printed.splitlines()] == [3]
    table = _cli("usage", "--config", str(config_file), "--until", today)
    assert table.splitlines()[0].split() == [
        *("day", "owner", "model", "requests", "input_tokens", "output_tokens")
    ]
    assert table.splitlines()[2].split()[:4] == [today, "bob", "openai/mock-model", "1"]


def test_usage_is_for_admins_and_checks_its_dates(upstream: MockUpstream, tmp_path: Path) -> None:
    config = stack_config(
        upstream.base_url,
        f"sqlite:///{tmp_path / 'usage.db'}",
        auth={"keys": KEYS},
        operations={"admins": ["ops"]},
    )
    with ServerThread(build_app(config)) as server, httpx.Client(base_url=server.url) as http:
        assert http.get("/v1/usage").status_code == 401
        refused = http.get("/v1/usage", headers={"Authorization": "Bearer sk-alice"})
        assert refused.status_code == 403
        assert refused.json()["error"]["type"] == "invalid_request_error"
        bad = http.get("/v1/usage", params={"until": "2026-13-01"}, headers=OPS)
        assert bad.status_code == 400
        assert bad.json()["error"]["param"] == "until"
        assert "YYYY-MM-DD" in bad.json()["error"]["message"]
    failed = subprocess.run(
        [sys.executable, "-m", "relaystack", "usage", "--since", "yesterday"],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2
    assert "'since' must be a date as YYYY-MM-DD" in failed.stderr


def _extra(settings: dict[str, Any]) -> dict[str, Any]:
    return {key: settings[key] for key in ("auth", "operations")}


def _wait_for_usage(base_url: str, done: Any) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        reply = httpx.get(f"{base_url}/v1/usage", headers=OPS)
        assert reply.status_code == 200, reply.text
        rows = reply.json()["data"]
        if done(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def _cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "relaystack", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
