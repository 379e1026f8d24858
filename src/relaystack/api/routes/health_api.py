"""``/v1/health``: the one route that answers without an API key."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from relaystack.api.json import json_response

HEALTH_PATH = "/v1/health"

router = APIRouter()


@router.get(HEALTH_PATH, summary="Health check")
async def health() -> Response:
    return json_response({"status": "OK"})
