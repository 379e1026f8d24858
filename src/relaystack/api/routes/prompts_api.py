"""``/v1/prompts``: reusable prompts, versioned and owner-scoped; ``PromptsService``
does the rest."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from relaystack.api.body import body_schema, typed_body
from relaystack.api.context import owner_of
from relaystack.api.json import json_response
from relaystack.api.limits import response_body
from relaystack.api.query import page_query, page_response
from relaystack.responses.prompt_templates import PromptBody
from relaystack.responses.prompts_service import PromptsService

router = APIRouter()


def _service(request: Request) -> PromptsService:
    return request.app.state.prompts


@router.post("/v1/prompts", openapi_extra=body_schema(PromptBody), summary="Create a prompt")
async def create_prompt(request: Request) -> Response:
    owner = owner_of(request)
    body = await typed_body(request, PromptBody, response_body)
    return json_response(await _service(request).create(body, owner))


@router.post(
    "/v1/prompts/{prompt_id}/versions",
    openapi_extra=body_schema(PromptBody),
    summary="Add a version to a prompt",
)
async def add_prompt_version(request: Request, prompt_id: str) -> Response:
    owner = owner_of(request)
    body = await typed_body(request, PromptBody, response_body)
    return json_response(await _service(request).add_version(prompt_id, body, owner))


@router.get("/v1/prompts", summary="List prompts (each at its latest version)")
async def list_prompts(request: Request) -> Response:
    owner = owner_of(request)
    page = await _service(request).list(
        owner,
        **page_query(request),
    )
    return page_response(page)


@router.get("/v1/prompts/{prompt_id}", summary="Retrieve a prompt (latest, or ?version=N)")
async def get_prompt(request: Request, prompt_id: str) -> Response:
    owner = owner_of(request)
    version = request.query_params.get("version")
    return json_response(await _service(request).get(prompt_id, owner, version))


@router.delete("/v1/prompts/{prompt_id}", summary="Delete a prompt and all its versions")
async def delete_prompt(request: Request, prompt_id: str) -> Response:
    owner = owner_of(request)
    return json_response(await _service(request).delete(prompt_id, owner))
