"""``/v1/files``: HTTP in and out; ``FilesService`` does the rest.

Uploads are ``multipart/form-data`` (``file``, ``purpose``, and optionally
``expires_after[anchor]`` / ``expires_after[seconds]``, as the openai SDK sends them).
A body over the configured size is refused from its ``Content-Length`` before it is read.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from relaystack.api.context import owner_of
from relaystack.api.json import json_response
from relaystack.api.query import page_query, page_response
from relaystack.errors import InvalidRequest
from relaystack.retrieval.files_service import FilesService

router = APIRouter()
# Room for the form's other fields and the multipart framing around the file.
_FORM_OVERHEAD = 64 * 1024


def _service(request: Request) -> FilesService:
    return request.app.state.files


@router.post("/v1/files", summary="Upload a file")
async def upload_file(request: Request) -> Response:
    owner = owner_of(request)
    service = _service(request)
    length = request.headers.get("content-length")
    if length and length.isdigit():
        service.check_size(max(0, int(length) - _FORM_OVERHEAD))
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidRequest(
            "Upload files as multipart/form-data with fields 'file' and 'purpose'.", param="file"
        )
    try:
        form = await request.form(max_files=1, max_fields=16)
    except Exception as exc:  # starlette's parser raises several kinds for a bad body
        raise InvalidRequest(f"The multipart body cannot be read: {exc}", param="file") from None
    try:
        upload = form.get("file")
        purpose = form.get("purpose")
        if not isinstance(upload, UploadFile):
            raise InvalidRequest(
                "Missing required parameter: 'file'.",
                param="file",
                code="missing_required_parameter",
            )
        if not isinstance(purpose, str):
            raise InvalidRequest(
                "Missing required parameter: 'purpose'.",
                param="purpose",
                code="missing_required_parameter",
            )
        if upload.size is not None:
            service.check_size(upload.size)
        content = await upload.read()
        expires = _expires_after(
            form.get("expires_after[anchor]"), form.get("expires_after[seconds]")
        )
        created = await service.upload(owner, upload.filename or "", purpose, content, expires)
    finally:
        await form.close()
    return json_response(created)


def _expires_after(anchor: object, seconds: object) -> tuple[str, int] | None:
    if anchor is None and seconds is None:
        return None
    # ASCII digits only: str.isdigit() also passes "²", which int() refuses.
    if not isinstance(seconds, str) or not (seconds.isascii() and seconds.isdigit()):
        raise InvalidRequest(
            "expires_after[seconds] must be a whole number of seconds.",
            param="expires_after.seconds",
        )
    return (anchor if isinstance(anchor, str) else "", int(seconds))


@router.get("/v1/files", summary="List files")
async def list_files(request: Request) -> Response:
    owner = owner_of(request)
    page = await _service(request).list_files(
        owner,
        purpose=request.query_params.get("purpose"),
        **page_query(request, default_limit=10000, max_limit=10000),
    )
    return page_response(page)


@router.get("/v1/files/{file_id}", summary="Retrieve a file")
async def get_file(request: Request, file_id: str) -> Response:
    owner = owner_of(request)
    return json_response(await _service(request).get(file_id, owner))


@router.delete("/v1/files/{file_id}", summary="Delete a file")
async def delete_file(request: Request, file_id: str) -> Response:
    owner = owner_of(request)
    return json_response(await _service(request).delete(file_id, owner))


@router.get("/v1/files/{file_id}/content", summary="Retrieve a file's content")
async def file_content(request: Request, file_id: str) -> Response:
    owner = owner_of(request)
    _file, content = await _service(request).content(file_id, owner)
    return Response(content, media_type="application/octet-stream")
