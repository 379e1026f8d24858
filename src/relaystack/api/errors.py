"""Every error leaves as OpenAI's envelope with the right status; nothing leaks as a bare 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from relaystack.api.json import json_response
from relaystack.errors import ApiError, InvalidRequest, RateLimited

log = logging.getLogger(__name__)


def error_response(error: ApiError) -> Response:
    response = json_response(error.envelope(), error.status_code)
    if isinstance(error, RateLimited):
        response.headers["retry-after"] = str(error.retry_after)
    return response


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0]
        param = str(first["loc"][-1]) if first.get("loc") else None
        return error_response(InvalidRequest(f"Invalid '{param}': {first['msg']}.", param=param))

    @app.exception_handler(HTTPException)
    async def _http_error(_request: Request, exc: HTTPException) -> Response:
        messages = {404: "Not found.", 405: "Method not allowed."}
        error = ApiError(
            messages.get(exc.status_code, str(exc.detail)),
            status_code=exc.status_code,
            code="not_found" if exc.status_code == 404 else None,
        )
        return error_response(error)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            ApiError(
                "The server had an error while processing your request.",
                status_code=500,
                error_type="server_error",
                code="server_error",
            )
        )
