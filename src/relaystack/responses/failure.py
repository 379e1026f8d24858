"""The error a failed response carries: one of the codes OpenAI's clients know.

``response.error.code`` (in ``response.failed`` and in the stored response) takes only
OpenAI's Responses error codes (the ``ResponseError`` enum of its API) plus
``context_length_exceeded``, which OpenAI sends there too and agents act on (they
compact and retry). relaystack's own codes (``upstream_error``, ``replay_miss``,
``server_overloaded`` ...) stay in HTTP error envelopes, where clients expect a wider
set; here they become the nearest of these, and the message keeps the detail.
"""

from __future__ import annotations

from typing import Any

from relaystack.errors import RESPONSE_ERROR_CODES, ApiError

__all__ = ["RESPONSE_ERROR_CODES", "failure_code", "response_error"]


def response_error(error: ApiError) -> dict[str, Any]:
    """``{"code", "message"}`` for a response that ``error`` ended."""
    return {"code": failure_code(error), "message": error.message}


def failure_code(error: ApiError) -> str:
    if error.code in RESPONSE_ERROR_CODES:
        return error.code
    if error.status_code == 429:
        return "rate_limit_exceeded"
    if 400 <= error.status_code < 500:
        return "invalid_prompt"  # the request, as sent on, was refused
    return "server_error"
