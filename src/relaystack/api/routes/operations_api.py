"""``/metrics``, ``/v1/ready`` and ``/v1/usage``: what operators read about the server."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from relaystack.accounting.days import checked_day
from relaystack.api.admin import require_admin
from relaystack.api.json import json_response
from relaystack.errors import InvalidRequest, NotFound
from relaystack.inference.registry import ModelRegistry
from relaystack.observability.metrics import CONTENT_TYPE
from relaystack.observability.recorder import Recorder
from relaystack.operations_config import OperationsConfig

METRICS_PATH = "/metrics"
READY_PATH = "/v1/ready"

router = APIRouter()

STORE_CHECK_SECONDS = 5.0


@router.get(METRICS_PATH, summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    recorder: Recorder = request.app.state.recorder
    if recorder.metrics is None:
        raise NotFound("Metrics are off (operations.metrics.enabled).")
    operations: OperationsConfig = request.app.state.operations
    if not operations.metrics.public:
        require_admin(request)
    return Response(recorder.metrics.exposition(), media_type=CONTENT_TYPE)


@router.get(READY_PATH, summary="Readiness check")
async def ready(request: Request) -> Response:
    """200 when the store answers (503 when not), with each upstream's last call.

    Open like ``/v1/health``, so probes need no key. Upstreams do not decide readiness:
    one that failed its last call may be back for the next, and a replica that cannot
    reach it cannot do better by being taken out.
    """
    store = await _store_check(request)
    registry: ModelRegistry = request.app.state.models
    recorder: Recorder = request.app.state.recorder
    upstreams = recorder.health.report([provider.id for provider in registry.providers])
    status = "ready" if store["ok"] else "not_ready"
    return json_response(
        {"status": status, "store": store, "upstreams": upstreams},
        200 if store["ok"] else 503,
    )


async def _store_check(request: Request) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(request.app.state.responses.store.ping(), STORE_CHECK_SECONDS)
    except Exception as exc:  # any failure is the answer: not ready, and why
        return {"ok": False, "error": str(exc) or type(exc).__name__}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


@router.get("/v1/usage", summary="Usage per owner, model and day (admins only)")
async def usage(request: Request) -> Response:
    """Requests and tokens per owner, model and UTC day, summed over every replica.

    Query: ``owner``, ``since`` and ``until`` (``YYYY-MM-DD``, both included)."""
    require_admin(request)
    params = request.query_params
    try:
        since = checked_day(params.get("since"), "since")
        until = checked_day(params.get("until"), "until")
    except ValueError as exc:
        raise InvalidRequest(
            str(exc), param="since" if "'since'" in str(exc) else "until"
        ) from None
    recorder: Recorder = request.app.state.recorder
    if recorder.usage is not None:
        await recorder.usage.flush()  # this replica's last second too
    rows = await request.app.state.responses.store.usage(
        owner=params.get("owner"), since=since, until=until
    )
    return json_response({"object": "list", "data": rows})
