"""Reading and writing recording files in the reference system's format.

One JSON object per file, keys in the order ``test_id``, ``request``, ``response``,
``id_normalization_mapping``; 2-space indent and a final newline (the text stdlib
``json`` writes, default ``ensure_ascii`` included, because that is what the reference
wrote and we want our files to diff cleanly against its files). Files are read leniently:
the reference's may hold integers beyond 64 bits. Response objects are wrapped as
``{"__type__": "<openai class path>", "__data__": {...}}``; the class paths are plain
strings, the SDK is never imported.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from relaystack.wire.json import dumps_stdlib, loads_lenient

Recording = dict[str, Any]

CHAT_COMPLETION = "openai.types.chat.chat_completion.ChatCompletion"
CHAT_COMPLETION_CHUNK = "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
COMPLETION = "openai.types.completion.Completion"
EMBEDDINGS = "openai.types.create_embedding_response.CreateEmbeddingResponse"
MODEL = "openai.types.model.Model"

# (label, is_streaming) -> class path. Anything else is stored unwrapped, which is what
# the reference did with plain dicts and what its reader accepts.
_TYPE_NAMES: dict[tuple[str, bool], str] = {
    ("/v1/chat/completions", False): CHAT_COMPLETION,
    ("/v1/chat/completions", True): CHAT_COMPLETION_CHUNK,
    ("/v1/completions", False): COMPLETION,
    ("/v1/completions", True): COMPLETION,
    ("/v1/embeddings", False): EMBEDDINGS,
    ("/v1/models", False): MODEL,
    ("/v1/openai/v1/models", False): MODEL,
}

# Status -> the openai SDK exception class name, so recorded errors read like the
# reference's (which serialised the SDK exception) and replay under the same status.
_ERROR_TYPES = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
}


def type_name_for(label: str, *, streaming: bool) -> str | None:
    return _TYPE_NAMES.get((label, streaming))


def wrap(data: Any, type_name: str | None) -> Any:
    if type_name is None or not isinstance(data, dict) or "error" in data:
        # An error event inside a stream is not a chunk; keep it as it came.
        return data
    return {"__type__": type_name, "__data__": data}


def unwrap(item: Any) -> Any:
    if isinstance(item, dict) and "__type__" in item and "__data__" in item:
        return item["__data__"]
    return item


def normalize_object(data: Any, key: str) -> Any:
    """Make ids and timestamps deterministic so re-recording gives no diff.

    Model objects keep theirs: there the id *is* the model name.
    """
    if not isinstance(data, dict) or data.get("object") == "model":
        return data
    if data.get("jsonrpc") == "2.0":
        return data  # an MCP message: its id ties the answer to the request
    if "id" in data:
        data["id"] = f"rec-{key[:12]}"
    if "created" in data:
        data["created"] = 0
    return data


def make_recording(
    *,
    test_id: str | None,
    method: str,
    url: str,
    body: Any,
    label: str,
    response: dict[str, Any],
) -> Recording:
    # Headers are never written: they carry credentials and are not part of the key.
    model = body.get("model", "") if isinstance(body, dict) else ""
    return {
        "test_id": test_id,
        "request": {
            "method": method,
            "url": url,
            "headers": {},
            "body": body,
            "endpoint": label,
            "model": model,
        },
        "response": response,
        "id_normalization_mapping": {},
    }


def success_response(body: Any, *, streaming: bool) -> dict[str, Any]:
    return {"body": body, "is_streaming": streaming}


def empty_response(status: int) -> dict[str, Any]:
    """A success with no body (an MCP notification's 202); replayed with its status."""
    return {"body": None, "is_streaming": False, "status_code": status}


def exception_response(status: int, content: bytes) -> dict[str, Any]:
    """An upstream HTTP error, shaped like the reference's serialised SDK exception."""
    text = content.decode("utf-8", "replace").strip()
    parsed: Any
    try:
        parsed = loads_lenient(text)
        message = f"Error code: {status} - {parsed}"  # the SDK's own wording
    except ValueError:
        parsed = text or None
        message = text or f"Error code: {status}"
    # Like the SDK, keep the inner object of an ``{"error": {...}}`` envelope.
    inner = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
    default = "InternalServerError" if status >= 500 else "APIStatusError"
    return {
        "body": None,
        "is_streaming": False,
        "is_exception": True,
        "exception_data": {
            "category": "provider_sdk",
            "provider": "openai",
            "type": _ERROR_TYPES.get(status, default),
            "message": message,
            "status_code": status,
            "body": inner,
        },
        "exception_message": message,
    }


def dumps_recording(recording: Recording) -> str:
    return dumps_stdlib(recording, indent=2) + "\n"


def write_recording(path: Path, recording: Recording) -> None:
    """Write atomically: a reader (or a crash) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(dumps_recording(recording))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_recording(path: Path) -> Recording:
    """Read a file and apply its ``id_normalization_mapping`` ({normalized: original})."""
    data = loads_lenient(path.read_bytes())
    if not isinstance(data, dict):
        raise ValueError("a recording must be a JSON object")
    mapping = data.get("id_normalization_mapping") or {}
    if mapping:
        data = _replace_strings(data, {orig: norm for norm, orig in mapping.items()})
        data["id_normalization_mapping"] = {}
    return data


def _replace_strings(value: Any, replacements: dict[str, str]) -> Any:
    # Substring replacement in every key and string value, as a text replace over the
    # whole file would do, without re-encoding the file.
    if isinstance(value, str):
        for original, normalized in replacements.items():
            value = value.replace(original, normalized)
        return value
    if isinstance(value, dict):
        return {
            _replace_strings(k, replacements): _replace_strings(v, replacements)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_replace_strings(v, replacements) for v in value]
    return value
