"""``/v1/health``: the one route that answers without an API key."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from relaystack.api.json import json_response

router = APIRouter()


@router.get("/v1/health", summary="Health check")
async def health() -> Response:
    return json_response({"status": "OK"})
