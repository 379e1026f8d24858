"""``/v1/models`` and ``/v1/health``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from relaystack import jsonutil
from relaystack.api.context import bind_request
from relaystack.inference.registry import ModelRegistry, ResolvedModel

router = APIRouter()


def _model_object(model: ResolvedModel) -> dict[str, object]:
    return {
        "id": model.public_id,
        "object": "model",
        "created": model.info.created,
        "owned_by": model.info.owned_by,
    }


@router.get("/v1/models", summary="List models")
async def list_models(request: Request) -> Response:
    bind_request(request)
    registry: ModelRegistry = request.app.state.models
    data = [_model_object(model) for model in registry.all()]
    return Response(jsonutil.dumps({"object": "list", "data": data}), media_type="application/json")


@router.get("/v1/models/{model_id:path}", summary="Retrieve a model")
async def get_model(request: Request, model_id: str) -> Response:
    bind_request(request)
    registry: ModelRegistry = request.app.state.models
    return Response(
        jsonutil.dumps(_model_object(registry.resolve(model_id))), media_type="application/json"
    )


@router.get("/v1/health", summary="Health check")
async def health() -> Response:
    return Response(b'{"status":"OK"}', media_type="application/json")
