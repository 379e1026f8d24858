"""``/openapi.json``, ``/docs`` and ``/redoc``: FastAPI's own pages, as routes of ours.

Served from here rather than by FastAPI itself, so that they are routes like the rest:
behind the API key unless ``server.open_docs`` opens them (``app.open_paths``).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from relaystack.api.json import json_response

OPENAPI_PATH = "/openapi.json"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
SWAGGER_PATH = "/docs"
REDOC_PATH = "/redoc"
PATHS = frozenset({OPENAPI_PATH, SWAGGER_PATH, OAUTH2_REDIRECT_PATH, REDOC_PATH})

router = APIRouter(include_in_schema=False)


def _root(request: Request) -> str:
    # Behind a proxy that mounts us under a prefix, the pages must fetch from there.
    return request.scope.get("root_path", "").rstrip("/")


@router.get(OPENAPI_PATH)
async def openapi(request: Request) -> Response:
    return json_response(request.app.openapi())


@router.get(SWAGGER_PATH)
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=_root(request) + OPENAPI_PATH,
        title=f"{request.app.title} - Swagger UI",
        oauth2_redirect_url=_root(request) + OAUTH2_REDIRECT_PATH,
    )


@router.get(OAUTH2_REDIRECT_PATH)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get(REDOC_PATH)
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=_root(request) + OPENAPI_PATH, title=f"{request.app.title} - ReDoc"
    )
