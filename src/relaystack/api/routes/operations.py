"""``/metrics``: what operators read about the running server."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from relaystack.api.admin import require_admin
from relaystack.errors import NotFound
from relaystack.observability.metrics import CONTENT_TYPE
from relaystack.observability.recorder import Recorder
from relaystack.operations_config import OperationsConfig

router = APIRouter()


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    recorder: Recorder = request.app.state.recorder
    if recorder.metrics is None:
        raise NotFound("Metrics are off (operations.metrics.enabled).")
    operations: OperationsConfig = request.app.state.operations
    if not operations.metrics.public:
        require_admin(request)
    return Response(recorder.metrics.exposition(), media_type=CONTENT_TYPE)
