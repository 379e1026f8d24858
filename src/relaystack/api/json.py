"""JSON answers: one encoder (orjson) and one content type for every route."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from relaystack import jsonutil


def json_response(payload: Any, status_code: int = 200) -> Response:
    return Response(jsonutil.dumps(payload), status_code=status_code, media_type="application/json")
