"""Errors with one shape, shared by every layer.

An ``ApiError`` carries what OpenAI's error envelope needs
(``{"error": {"message", "type", "param", "code"}}``) plus the HTTP status, so the
engine can raise a precise error and the HTTP layer only has to frame it.
"""

from __future__ import annotations

from typing import Any

# The codes a failed response's ``error.code`` may take: OpenAI's Responses error codes
# (its ``ResponseError`` enum) plus ``context_length_exceeded``, which OpenAI sends there
# too and agents act on. ``responses/failure.py`` maps every other code onto these.
RESPONSE_ERROR_CODES = frozenset(
    {
        "server_error",
        "rate_limit_exceeded",
        "invalid_prompt",
        "vector_store_timeout",
        "invalid_image",
        "invalid_image_format",
        "invalid_base64_image",
        "invalid_image_url",
        "image_too_large",
        "image_too_small",
        "image_parse_error",
        "image_content_policy_violation",
        "invalid_image_mode",
        "image_file_too_large",
        "unsupported_image_media_type",
        "empty_image_file",
        "failed_to_download_image",
        "image_file_not_found",
        "context_length_exceeded",
    }
)


class ApiError(Exception):
    status_code = 400
    error_type = "invalid_request_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status_code: int | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        if status_code is not None:
            self.status_code = status_code
        if error_type is not None:
            self.error_type = error_type

    def envelope(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(ApiError):
    """400: the request names a bad parameter."""


class NotFound(ApiError):
    status_code = 404

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message, param=param, code=code)


# How a client finds the ids that do exist, said after "not found" (the SDK's words).
_LISTINGS = {
    "Response": "Use 'client.responses.list()' to list available Responses.",
    "Previous response": "Use 'client.responses.list()' to list available Responses.",
    "Conversation": (
        "Conversations are not listed; create one with 'client.conversations.create()'."
    ),
    "Item": (
        "Use 'client.conversations.items.list(conversation_id)' or "
        "'client.responses.input_items.list(response_id)' to list available Items."
    ),
}


def not_found(what: str, identifier: str, param: str, code: str | None = None) -> NotFound:
    """``"Conversation with id 'x' not found. ..."``, then how to find the existing ones:
    the same words whether it never existed or belongs to another owner."""
    listing = _LISTINGS.get(what)
    message = f"{what} with id '{identifier}' not found."
    return NotFound(f"{message} {listing}" if listing else message, param=param, code=code)


class Unauthorized(ApiError):
    status_code = 401

    def __init__(self, message: str = "Missing or invalid API key.") -> None:
        super().__init__(message, code="invalid_api_key")


class Overloaded(ApiError):
    status_code = 503
    error_type = "server_error"

    def __init__(self, message: str) -> None:
        super().__init__(message, code="server_overloaded")


class RateLimited(ApiError):
    """429, with how long to wait (sent as ``retry-after``)."""

    status_code = 429

    def __init__(self, message: str, *, error_type: str, retry_after: int) -> None:
        super().__init__(message, code="rate_limit_exceeded", error_type=error_type)
        self.retry_after = retry_after
