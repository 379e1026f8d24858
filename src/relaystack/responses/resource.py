"""The response object (``object: "response"``) as clients see it.

Every field OpenAI documents is present, with the value the request set or the
documented default, so strict clients and the Open Responses schemas both accept it.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from relaystack.items.kind import Item
from relaystack.responses.request import CreateResponseRequest

ResponseStatus = Literal["queued", "in_progress", "completed", "incomplete", "failed", "cancelled"]


class Usage(TypedDict):
    input_tokens: int
    input_tokens_details: dict[str, int]
    output_tokens: int
    output_tokens_details: dict[str, int]
    total_tokens: int


class ResponseObject(TypedDict):
    id: str
    object: Literal["response"]
    created_at: int
    completed_at: int | None
    status: ResponseStatus
    background: bool
    error: dict[str, Any] | None
    incomplete_details: dict[str, Any] | None
    instructions: str | None
    max_output_tokens: int | None
    max_tool_calls: int | None
    model: str
    output: list[Item]
    parallel_tool_calls: bool
    previous_response_id: str | None
    conversation: dict[str, str] | None
    reasoning: dict[str, Any]
    service_tier: str
    store: bool
    temperature: float
    text: dict[str, Any]
    tool_choice: Any
    tools: list[dict[str, Any]]
    top_logprobs: int
    top_p: float
    presence_penalty: float
    frequency_penalty: float
    truncation: Literal["auto", "disabled"]
    usage: Usage | None
    user: str | None
    safety_identifier: str | None
    prompt_cache_key: str | None
    metadata: dict[str, str]


def new_response(
    request: CreateResponseRequest,
    response_id: str,
    created_at: int,
    sampling_defaults: dict[str, float] | None = None,
) -> ResponseObject:
    defaults = {"temperature": 1.0, "top_p": 1.0, **(sampling_defaults or {})}
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "completed_at": None,
        "status": "in_progress",
        "background": bool(request.background),
        "error": None,
        "incomplete_details": None,
        "instructions": request.instructions,
        "max_output_tokens": request.max_output_tokens,
        "max_tool_calls": request.max_tool_calls,
        "model": request.model,
        "output": [],
        "parallel_tool_calls": (
            True if request.parallel_tool_calls is None else request.parallel_tool_calls
        ),
        "previous_response_id": request.previous_response_id,
        "conversation": (
            {"id": request.conversation_id} if request.conversation_id is not None else None
        ),
        "reasoning": _reasoning(request),
        "service_tier": request.service_tier or "default",
        "store": True if request.store is None else request.store,
        "temperature": (
            defaults["temperature"] if request.temperature is None else request.temperature
        ),
        "text": _text(request),
        "tool_choice": _tool_choice(request),
        "tools": [tool.model_dump() for tool in request.tools or []],
        "top_logprobs": request.top_logprobs or 0,
        "top_p": defaults["top_p"] if request.top_p is None else request.top_p,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "truncation": request.truncation or "disabled",
        "usage": None,
        "user": request.user,
        "safety_identifier": request.safety_identifier,
        "prompt_cache_key": request.prompt_cache_key,
        "metadata": dict(request.metadata or {}),
    }


def _reasoning(request: CreateResponseRequest) -> dict[str, Any]:
    options = request.reasoning
    if options is None:
        return {"effort": None, "summary": None}
    return {"effort": options.effort, "summary": options.summary or options.generate_summary}


def _text(request: CreateResponseRequest) -> dict[str, Any]:
    options = request.text
    fmt: dict[str, Any] = {"type": "text"}
    if options is not None and options.format is not None:
        fmt = options.format.model_dump(by_alias=True)
        if fmt["type"] == "json_schema":
            fmt.setdefault("strict", False)
            if fmt["strict"] is None:
                fmt["strict"] = False
    verbosity = options.verbosity if options is not None and options.verbosity else "medium"
    return {"format": fmt, "verbosity": verbosity}


def _tool_choice(request: CreateResponseRequest) -> Any:
    choice = request.tool_choice
    if choice is None:
        return "auto"
    if isinstance(choice, str):
        return choice
    return choice.model_dump()


def usage_from_chat(usage: dict[str, Any]) -> Usage:
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    input_tokens = usage.get("prompt_tokens") or 0
    output_tokens = usage.get("completion_tokens") or 0
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": prompt_details.get("cached_tokens") or 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {
            "reasoning_tokens": completion_details.get("reasoning_tokens") or 0
        },
        "total_tokens": usage.get("total_tokens") or input_tokens + output_tokens,
    }


def add_usage(earlier: Usage | None, usage: Usage) -> Usage:
    """Usage over several upstream calls (one response's model rounds)."""
    if earlier is None:
        return usage
    return {
        "input_tokens": earlier["input_tokens"] + usage["input_tokens"],
        "input_tokens_details": {
            "cached_tokens": earlier["input_tokens_details"]["cached_tokens"]
            + usage["input_tokens_details"]["cached_tokens"]
        },
        "output_tokens": earlier["output_tokens"] + usage["output_tokens"],
        "output_tokens_details": {
            "reasoning_tokens": earlier["output_tokens_details"]["reasoning_tokens"]
            + usage["output_tokens_details"]["reasoning_tokens"]
        },
        "total_tokens": earlier["total_tokens"] + usage["total_tokens"],
    }
