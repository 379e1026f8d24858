"""With auth on, every route but the health check refuses a request without a valid key.

Walks the app's own route table (the docs pages included), so a route added later is
covered too; ``server.open_docs`` opens the docs pages and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from relaystack.app import build_app
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread
from tests.support.stack import stack_config

OPEN_PATHS = {"/v1/health", "/v1/ready"}
DOCS_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
KEY = {"Authorization": "Bearer sk-only"}


def _keyed_app(upstream: MockUpstream, tmp_path: Path, **server: object) -> FastAPI:
    config = stack_config(
        upstream.base_url,
        f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}",
        auth={"keys": [{"key": "sk-only", "owner": "only"}]},
        server=server,
    )
    return build_app(config)


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app answers, from its route table."""
    return [
        (method, route.path)
        for route in _flat(app.routes)
        for method in sorted(getattr(route, "methods", None) or ())
    ]


def _flat(routes: list[Any]) -> Iterable[Any]:
    # Older FastAPI lists included routers' routes in app.routes itself; later
    # versions keep included routers whole, and this walks into them.
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:
        return routes
    return iter_route_contexts(routes)


def _request(http: httpx.Client, method: str, path: str, headers: dict) -> httpx.Response:
    concrete = re.sub(r"\{[^}]+\}", "x_1", path)
    return http.request(method, concrete, headers=headers, json={} if method == "POST" else None)


@pytest.fixture
def keyed(upstream: MockUpstream, tmp_path: Path) -> Iterator[tuple[FastAPI, httpx.Client]]:
    app = _keyed_app(upstream, tmp_path)
    with ServerThread(app) as thread, httpx.Client(base_url=thread.url) as http:
        yield app, http


def test_every_route_needs_a_key(keyed: tuple[FastAPI, httpx.Client]) -> None:
    app, http = keyed
    routes = _routes(app)
    assert {path for _, path in routes} >= DOCS_PATHS | OPEN_PATHS | {"/v1/responses"}
    assert len(routes) > 15
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer sk-wrong"}):
            reply = _request(http, method, path, headers)
            expected = 200 if path in OPEN_PATHS else 401
            assert reply.status_code == expected, (method, path, reply.text)
            if expected == 401 and method != "HEAD":
                assert reply.json()["error"]["code"] == "invalid_api_key"
        # The right key gets past authentication (whatever the route says next).
        assert _request(http, method, path, KEY).status_code != 401, (method, path)


def test_the_docs_answer_with_a_key(keyed: tuple[FastAPI, httpx.Client]) -> None:
    _, http = keyed
    document = http.get("/openapi.json", headers=KEY).json()
    assert "/v1/responses" in document["paths"]
    assert "/docs" not in document["paths"]
    assert "swagger-ui" in http.get("/docs", headers=KEY).text
    assert "redoc" in http.get("/redoc", headers=KEY).text


def test_open_docs_opens_the_docs_and_nothing_else(upstream: MockUpstream, tmp_path: Path) -> None:
    app = _keyed_app(upstream, tmp_path, open_docs=True)
    with ServerThread(app) as thread, httpx.Client(base_url=thread.url) as http:
        for path in sorted(DOCS_PATHS):
            assert http.get(path).status_code == 200, path
        assert "/v1/responses" in http.get("/openapi.json").json()["paths"]
        assert http.get("/v1/models").status_code == 401


@pytest.mark.parametrize("token", ["sk-onlÿ", "ключ", "sk-only\u00a0"])
def test_a_non_ascii_key_is_refused_with_401(
    keyed: tuple[FastAPI, httpx.Client], token: str
) -> None:
    _, http = keyed
    headers = {"Authorization": b"Bearer " + token.encode()}
    reply = http.get("/v1/models", headers=headers)
    assert reply.status_code == 401, reply.text
    assert reply.json()["error"]["code"] == "invalid_api_key"


def test_a_non_ascii_key_in_the_config_matches_the_same_key_sent(
    upstream: MockUpstream, tmp_path: Path
) -> None:
    config = stack_config(
        upstream.base_url,
        f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}",
        auth={"keys": [{"key": "sk-clé", "owner": "claire"}]},
    )
    with ServerThread(build_app(config)) as thread, httpx.Client(base_url=thread.url) as http:
        sent = {"Authorization": "Bearer sk-clé".encode()}
        assert http.get("/v1/models", headers=sent).status_code == 200
        assert http.get("/v1/models", headers=KEY).status_code == 401


def test_the_key_is_checked_before_routing(keyed: tuple[FastAPI, httpx.Client]) -> None:
    """A path no route serves says nothing without a key (not even that it does not
    exist), and is OpenAI's 404 with one; a request id either way."""
    _, http = keyed
    refused = http.get("/v1/no-such-thing")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"
    assert refused.headers["x-request-id"]
    missing = http.get("/v1/no-such-thing", headers=KEY)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_an_open_path_stays_open_behind_a_proxy_prefix(
    upstream: MockUpstream, tmp_path: Path
) -> None:
    """Mounted under a prefix (ASGI ``root_path``), the health check is still matched
    without the prefix, and every other path still needs the key."""
    transport = httpx.ASGITransport(_keyed_app(upstream, tmp_path), root_path="/relay")
    async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as http:
        assert (await http.get("/relay/v1/health")).status_code == 200
        assert (await http.get("/relay/v1/models")).status_code == 401
        assert (await http.get("/relay/v1/no-such-thing", headers=KEY)).status_code == 404
