"""With auth on, every ``/v1`` route but the health check refuses a request without a
valid key. Walks the app's own route table, so a route added later is covered too."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from relaystack.app import build_app
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread
from tests.support.stack import stack_config

OPEN_PATHS = {"/v1/health", "/v1/ready"}


def test_every_v1_route_needs_a_key(upstream: MockUpstream, tmp_path: Path) -> None:
    config = stack_config(
        upstream.base_url,
        f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}",
        auth={"keys": [{"key": "sk-only", "owner": "only"}]},
    )
    app = build_app(config)
    # The OpenAPI document lists every route the app serves, included routers too.
    routes = [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/v1/")
        for method in operations
    ]
    assert len(routes) > 10
    with ServerThread(app) as thread, httpx.Client(base_url=thread.url) as http:
        for method, path in routes:
            concrete = re.sub(r"\{[^}]+\}", "x_1", path)
            for headers in ({}, {"Authorization": "Bearer sk-wrong"}):
                reply = http.request(
                    method, concrete, headers=headers, json={} if method == "POST" else None
                )
                expected = 200 if path in OPEN_PATHS else 401
                assert reply.status_code == expected, (method, path, reply.text)
            # The right key gets past authentication (whatever the route says next).
            reply = http.request(
                method,
                concrete,
                headers={"Authorization": "Bearer sk-only"},
                json={} if method == "POST" else None,
            )
            assert reply.status_code != 401, (method, path)
