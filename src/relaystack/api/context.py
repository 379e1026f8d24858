"""Who is asking and under which test id: read once per request from its headers.

``Authentication`` is an ASGI layer in front of every route, so a new route cannot
forget it: it checks the API key (when keys are configured) of every HTTP request and
WebSocket upgrade but the open paths (health and readiness checks, the docs when
``server.open_docs`` says so, ``/metrics`` when its config opens it), binds the test id
for the recorder, and leaves the owner in the ASGI scope, where ``owner_of`` reads it.

Why not a FastAPI dependency (of every router, and an ``Owner`` parameter): FastAPI
solves each dependency again for each request, and that solving was the largest piece
of what the wave's features added to a chat completion (a third of it by profile).
"""

from __future__ import annotations

import hmac
from collections.abc import Collection
from typing import Any

from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from relaystack.api.errors import error_response
from relaystack.errors import ApiError, Unauthorized
from relaystack.recording.context import current_test_id
from relaystack.telemetry import telemetry
from relaystack.wire.json import loads

DEFAULT_OWNER = "default"
OWNER_KEY = "relaystack.owner"  # where the owner waits in the ASGI scope
_TEST_ID_HEADER = b"x-relaystack-test-id"
_PROVIDER_DATA_HEADERS = (b"x-ogx-provider-data", b"x-llamastack-provider-data")
_READ_HEADERS = frozenset({b"authorization", _TEST_ID_HEADER, *_PROVIDER_DATA_HEADERS})

Scope = dict[str, Any]


class Authentication:
    """ASGI layer: the owner of each request, or a 401 in OpenAI's envelope."""

    def __init__(self, app: Any, keys: dict[str, str] | None, open_paths: Collection[str]) -> None:
        self.app = app
        self.keys = keys or None
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.keys is not None and _route_path(scope) in self.open_paths:
            await self.app(scope, receive, send)
            return
        found = _headers_of(scope)
        owner = DEFAULT_OWNER
        if self.keys is not None:
            try:
                owner = owner_of_key(self.keys, found.get(b"authorization", b"").decode("latin-1"))
            except ApiError as error:
                await _refuse(scope, receive, send, error)
                return
        scope[OWNER_KEY] = owner
        current_test_id.set(test_id_of(found))
        telemetry().identify(owner)
        await self.app(scope, receive, send)


def _headers_of(scope: Scope) -> dict[bytes, bytes]:
    """The headers read here, in one pass over the raw list (names arrive lowercased);
    the first of a repeated header counts, as in Starlette's ``Headers.get``."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _READ_HEADERS and name not in found:
            found[name] = value
    return found


def _route_path(scope: Scope) -> str:
    # As the router sees it: behind a proxy's prefix (root_path), without the prefix.
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


async def _refuse(scope: Scope, receive: Any, send: Any, error: ApiError) -> None:
    response = error_response(error)
    if scope["type"] == "websocket":
        # Refused before the upgrade: the client reads a plain HTTP 401, as from a route.
        await WebSocket(scope, receive, send).send_denial_response(response)
    else:
        await response(scope, receive, send)


def owner_of_key(keys: dict[str, str], authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token:
        # Header values arrive decoded as latin-1: back to the bytes the client sent,
        # because compare_digest refuses a str with non-ASCII characters.
        sent = token.encode("latin-1")
        for key, owner in keys.items():
            if hmac.compare_digest(key.encode(), sent):
                return owner
    raise Unauthorized("Incorrect or missing API key. Send it as 'Authorization: Bearer <key>'.")


def owner_of(connection: HTTPConnection) -> str:
    """The caller's owner, as ``Authentication`` found it (a handler's first line)."""
    owner: str = connection.scope[OWNER_KEY]
    return owner


def test_id_of(headers: dict[bytes, bytes]) -> str | None:
    test_id = headers.get(_TEST_ID_HEADER)
    if test_id:
        return test_id.decode("latin-1")
    for name in _PROVIDER_DATA_HEADERS:
        raw = headers.get(name)
        if not raw:
            continue
        try:
            data = loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("__test_id"), str):
            return data["__test_id"]
    return None
