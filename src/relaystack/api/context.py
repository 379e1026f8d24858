"""Who is asking and under which test id: read once per request from its headers."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from relaystack import jsonutil
from relaystack.errors import Unauthorized
from relaystack.recording.context import current_test_id
from relaystack.telemetry import telemetry

DEFAULT_OWNER = "default"
_PROVIDER_DATA_HEADERS = ("x-ogx-provider-data", "x-llamastack-provider-data")


def request_owner(request: Request) -> str:
    keys: dict[str, str] | None = request.app.state.api_keys
    if not keys:
        return DEFAULT_OWNER
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        for key, owner in keys.items():
            if hmac.compare_digest(key, token):
                return owner
    raise Unauthorized("Incorrect or missing API key. Send it as 'Authorization: Bearer <key>'.")


def bind_request(request: Request) -> str:
    """Authenticate, bind the test id for the recorder, and return the owner."""
    owner = request_owner(request)
    current_test_id.set(test_id_of(request))
    telemetry().identify(owner)
    return owner


def test_id_of(request: Request) -> str | None:
    headers = request.headers
    test_id = headers.get("x-relaystack-test-id")
    if test_id:
        return test_id
    for name in _PROVIDER_DATA_HEADERS:
        raw = headers.get(name)
        if not raw:
            continue
        try:
            data = jsonutil.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("__test_id"), str):
            return data["__test_id"]
    return None
