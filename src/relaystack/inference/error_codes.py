"""An upstream's own refusal, said in OpenAI's error codes: never passed through raw.

Chat-completions servers word the same failure differently (vLLM, llama.cpp's server,
Ollama and OpenAI each have their own code, or none, for a prompt longer than the
context window). Clients act on OpenAI's codes (agents compact on
``context_length_exceeded``), so the known failures are recognised by code or by
message and given OpenAI's code, and the parameter that names the upstream's chat
body (``messages``) becomes the Responses parameter the client sent (``input``).
An upstream code that is not one of OpenAI's is dropped: the caller says
``upstream_error`` instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from relaystack.errors import RESPONSE_ERROR_CODES

# OpenAI's codes an upstream may send as they are: the Responses error codes that name
# a problem with the request (not relaystack's own ``server_error`` or a vector store's
# timeout), and the HTTP-only ``insufficient_quota`` that clients branch on.
_OPENAI_CODES = (RESPONSE_ERROR_CODES - {"server_error", "vector_store_timeout"}) | {
    "insufficient_quota"
}

# Other servers' codes for the same failures.
_SYNONYMS = {
    "context_window_exceeded": "context_length_exceeded",
    "exceed_context_size_error": "context_length_exceeded",  # llama.cpp's server
    "content_policy_violation": "invalid_prompt",
    "content_filter": "invalid_prompt",
    "rate_limited": "rate_limit_exceeded",
    "too_many_requests": "rate_limit_exceeded",
}


@dataclass(frozen=True)
class _Pattern:
    code: str
    words: re.Pattern[str]


# First match wins: the image patterns before the generic ones.
_PATTERNS = (
    _Pattern("invalid_base64_image", re.compile(r"base64", re.I)),
    _Pattern(
        "invalid_image_url",
        re.compile(
            r"image[ _-]?url|(fetch|download|retrieve|load)\w* (the )?image|image.{0,40}"
            r"(could not|cannot|failed to) be (fetched|downloaded|retrieved)",
            re.I,
        ),
    ),
    _Pattern("unsupported_image_media_type", re.compile(r"(media|mime)[ _-]?type", re.I)),
    _Pattern("image_too_large", re.compile(r"image.{0,40}too (large|big)", re.I)),
    _Pattern("invalid_image_format", re.compile(r"image (format|type)|unsupported image", re.I)),
    _Pattern("invalid_image", re.compile(r"invalid image|image.{0,40}(decode|pars|corrupt)", re.I)),
    _Pattern(
        "context_length_exceeded",
        re.compile(
            r"context[ _-]?(length|window|size)|context (is |was )?too (long|large)|"
            r"maximum context|too many tokens|"
            r"prompt is too long|input is too long|exceeds? the (model'?s? )?"
            r"(maximum )?(context|token limit)",
            re.I,
        ),
    ),
)

# The Responses parameter a mapped failure is about.
_PARAMS = {"rate_limit_exceeded": None, "insufficient_quota": None}


@dataclass(frozen=True)
class MappedError:
    code: str | None  # OpenAI's code, or None when the failure is not one it names
    param: str | None


def map_upstream_error(status: int | None, code: str | None, message: str) -> MappedError:
    """OpenAI's code and parameter for an upstream's refusal (its status, code, words)."""
    mapped = _mapped_code(status, code, message)
    if mapped is None:
        return MappedError(None, None)
    return MappedError(mapped, _PARAMS.get(mapped, "input"))


def _mapped_code(status: int | None, code: str | None, message: str) -> str | None:
    if code in _OPENAI_CODES:
        return code
    if code in _SYNONYMS:
        return _SYNONYMS[code]
    if status == 429:
        return "rate_limit_exceeded"
    if status is not None and not 400 <= status < 500:
        return None  # the upstream's own failure, whatever its words
    for pattern in _PATTERNS:
        if pattern.words.search(message):
            return pattern.code
    return None
