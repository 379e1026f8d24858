"""JSON answers: one encoder (orjson) and one content type for every route."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from relaystack.wire.json import dumps


def json_response(payload: Any, status_code: int = 200) -> Response:
    return Response(dumps(payload), status_code=status_code, media_type="application/json")
