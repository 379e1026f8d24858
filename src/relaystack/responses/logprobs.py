"""Token log probabilities: asked of the upstream when the client wants them, carried
from chat chunks onto ``output_text`` parts and ``response.output_text.delta`` events.

The client asks with ``include: ["message.output_text.logprobs"]``, and ``top_logprobs``
says how many alternatives each token gets; the upstream then gets chat's ``logprobs:
true`` (and ``top_logprobs``). ``top_logprobs`` alone asks for nothing, as with OpenAI,
whose output_text ``logprobs`` stay empty without the ``include``. What
comes back is passed on as it came (chat's entries have the Responses shape already); an
upstream that sends none leaves the lists empty: nothing is ever made up.
"""

from __future__ import annotations

from typing import Any

from relaystack.responses.request import CreateResponseRequest

INCLUDE_LOGPROBS = "message.output_text.logprobs"


def wants_logprobs(request: CreateResponseRequest) -> bool:
    return INCLUDE_LOGPROBS in (request.include or ())


def add_logprobs(body: dict[str, Any], request: CreateResponseRequest) -> None:
    """Chat's ``logprobs`` / ``top_logprobs`` for what the request asks."""
    if not wants_logprobs(request):
        return
    body["logprobs"] = True
    if request.top_logprobs is not None:
        body["top_logprobs"] = request.top_logprobs


def from_chunk(choice: dict[str, Any]) -> list[dict[str, Any]]:
    """The log probabilities of a chunk's content tokens (none: an empty list)."""
    logprobs = choice.get("logprobs")
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list):
        return []
    return [_entry(entry, top=True) for entry in content if isinstance(entry, dict)]


def _entry(entry: dict[str, Any], *, top: bool) -> dict[str, Any]:
    token = str(entry.get("token", ""))
    found = entry.get("bytes")
    mapped: dict[str, Any] = {
        "token": token,
        "logprob": float(entry.get("logprob", 0.0)),
        # Some servers send null bytes: they are the token's own UTF-8, not a guess.
        "bytes": found if isinstance(found, list) else list(token.encode("utf-8")),
    }
    if top:
        alternatives = entry.get("top_logprobs") or []
        mapped["top_logprobs"] = [
            _entry(alternative, top=False)
            for alternative in alternatives
            if isinstance(alternative, dict)
        ]
    return mapped
