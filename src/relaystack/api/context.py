"""Who is asking and under which test id: read once per request from its headers.

``authenticate`` is a dependency of every route but the health check (``app.py``
attaches it to the routers, so a new route cannot forget it); handlers take the
owner it found as an ``Owner`` parameter.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from relaystack.errors import Unauthorized
from relaystack.recording.context import current_test_id
from relaystack.telemetry import telemetry
from relaystack.wire.json import loads

DEFAULT_OWNER = "default"
_PROVIDER_DATA_HEADERS = ("x-ogx-provider-data", "x-llamastack-provider-data")


def request_owner(request: HTTPConnection) -> str:
    keys: dict[str, str] | None = request.app.state.api_keys
    if not keys:
        return DEFAULT_OWNER
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        # Header values arrive decoded as latin-1: back to the bytes the client sent,
        # because compare_digest refuses a str with non-ASCII characters.
        sent = token.encode("latin-1")
        for key, owner in keys.items():
            if hmac.compare_digest(key.encode(), sent):
                return owner
    raise Unauthorized("Incorrect or missing API key. Send it as 'Authorization: Bearer <key>'.")


async def authenticate(request: HTTPConnection) -> str:
    """Authenticate, bind the test id for the recorder, and return the owner.

    Async on purpose: FastAPI runs a sync dependency in a worker thread, where the
    test id would be bound in a context the handler never sees. Any connection: the
    WebSocket upgrade of ``/v1/responses`` carries its key the way a request does.
    """
    owner = request_owner(request)
    current_test_id.set(test_id_of(request))
    telemetry().identify(owner)
    return owner


# The caller's owner in a handler; FastAPI runs ``authenticate`` once per request.
Owner = Annotated[str, Depends(authenticate)]


def test_id_of(request: HTTPConnection) -> str | None:
    headers = request.headers
    test_id = headers.get("x-relaystack-test-id")
    if test_id:
        return test_id
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
