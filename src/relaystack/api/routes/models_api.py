"""``/v1/models``: the models the configured providers serve."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from relaystack.api.json import json_response
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
    registry: ModelRegistry = request.app.state.models
    data = [_model_object(model) for model in registry.all()]
    return json_response({"object": "list", "data": data})


@router.get("/v1/models/{model_id:path}", summary="Retrieve a model")
async def get_model(request: Request, model_id: str) -> Response:
    registry: ModelRegistry = request.app.state.models
    return json_response(_model_object(registry.resolve(model_id)))
