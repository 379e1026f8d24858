"""The chat-completions body for one turn: only what the client's request implies.

No nulls and no defaults the client did not send, so that the same request always
produces the same body (it is the key of a recording) and upstreams see no surprises.
Each tool says how it is offered (``ToolKind.offer``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from relaystack.catalog import TOOL_KINDS
from relaystack.items.kind import ChatMessage
from relaystack.responses.logprobs import add_logprobs
from relaystack.responses.request import (
    AllowedTools,
    CreateResponseRequest,
    TextFormatJsonObject,
    TextFormatJsonSchema,
)
from relaystack.tools.kind import ChatTool


def build_chat_body(
    request: CreateResponseRequest,
    upstream_model: str,
    messages: list[ChatMessage],
    offer: Offer,
    forwarded: Collection[str] = (),
) -> dict[str, Any]:
    """``forwarded``: the request fields this upstream takes as they are (its provider's
    ``forward`` setting); the others are answered by relaystack or only echoed."""
    body: dict[str, Any] = {
        "model": upstream_model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.max_output_tokens is not None:
        body["max_completion_tokens"] = request.max_output_tokens
    if request.reasoning is not None and request.reasoning.effort is not None:
        body["reasoning_effort"] = request.reasoning.effort
    add_logprobs(body, request)
    response_format = _response_format(request)
    if response_format is not None:
        body["response_format"] = response_format
    _add_tools(body, request, offer)
    if forwarded:
        body.update(_forwarded_fields(request, forwarded))
    return body


def _forwarded_fields(request: CreateResponseRequest, names: Collection[str]) -> dict[str, Any]:
    values = {
        "user": request.user,
        "safety_identifier": request.safety_identifier,
        "prompt_cache_key": request.prompt_cache_key,
        "service_tier": request.service_tier,
        "verbosity": request.text.verbosity if request.text is not None else None,
    }
    # In this fixed order, not the set's: the body is a recording's key.
    return {name: value for name, value in values.items() if name in names and value is not None}


def _response_format(request: CreateResponseRequest) -> dict[str, Any] | None:
    fmt = request.text.format if request.text is not None else None
    if isinstance(fmt, TextFormatJsonObject):
        return {"type": "json_object"}
    if isinstance(fmt, TextFormatJsonSchema):
        schema: dict[str, Any] = {"name": fmt.name, "schema": fmt.schema_}
        if fmt.description is not None:
            schema["description"] = fmt.description
        if fmt.strict is not None:
            schema["strict"] = fmt.strict
        return {"type": "json_schema", "json_schema": schema}
    return None


@dataclass(frozen=True)
class Offer:
    """The tools one model call is offered, and how its ``tool_choice`` reads."""

    tools: list[ChatTool]
    names_of: Callable[[Any], list[str]]  # the chat names a tool_choice form selects
    choice: Any  # this call's tool_choice (the request's, or "auto" after a forced call)


def chosen_names(choice: Any, names_of: Callable[[Any], list[str]]) -> list[str]:
    """The chat function names a ``tool_choice`` object selects (none for a string)."""
    if isinstance(choice, AllowedTools):
        return [name for form in choice.tools for name in names_of(form)]
    if choice is None or isinstance(choice, str):
        return []
    return names_of(choice)


def static_names(form: Any) -> list[str]:
    """What a ``tool_choice`` form selects among the tools known before any I/O."""
    return TOOL_KINDS[form.type].chosen_names(form)


def _add_tools(body: dict[str, Any], request: CreateResponseRequest, offer: Offer) -> None:
    offered = offer.tools
    choice = offer.choice
    if isinstance(choice, AllowedTools):
        # Narrowing the list works on every upstream; the chat "allowed_tools" choice
        # is OpenAI-only.
        allowed = set(chosen_names(choice, offer.names_of))
        offered = [tool for tool in offered if tool["function"]["name"] in allowed]
    if not offered:
        return
    body["tools"] = offered
    if isinstance(choice, AllowedTools):
        body["tool_choice"] = choice.mode
    elif isinstance(choice, str):
        body["tool_choice"] = choice
    elif choice is not None:
        name = chosen_names(choice, offer.names_of)[0]
        body["tool_choice"] = {"type": "function", "function": {"name": name}}
    if request.parallel_tool_calls is not None:
        body["parallel_tool_calls"] = request.parallel_tool_calls
