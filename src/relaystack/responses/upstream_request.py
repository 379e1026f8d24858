"""The chat-completions body for one turn: only what the client's request implies.

No nulls and no defaults the client did not send, so that the same request always
produces the same body (it is the key of a recording) and upstreams see no surprises.
"""

from __future__ import annotations

from typing import Any

from relaystack.responses.types import (
    AllowedTools,
    CreateResponseRequest,
    FunctionTool,
    NamedFunction,
    TextFormatJsonObject,
    TextFormatJsonSchema,
)


def build_chat_body(
    request: CreateResponseRequest, upstream_model: str, messages: list[dict[str, Any]]
) -> dict[str, Any]:
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
    response_format = _response_format(request)
    if response_format is not None:
        body["response_format"] = response_format
    _add_tools(body, request)
    return body


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


def _add_tools(body: dict[str, Any], request: CreateResponseRequest) -> None:
    tools: list[FunctionTool] = list(request.tools or [])
    choice = request.tool_choice
    if isinstance(choice, AllowedTools):
        # Narrowing the list works on every upstream; the chat "allowed_tools" choice
        # is OpenAI-only.
        allowed = {tool.name for tool in choice.tools}
        tools = [tool for tool in tools if tool.name in allowed]
    if not tools:
        return
    body["tools"] = [_chat_tool(tool) for tool in tools]
    if isinstance(choice, AllowedTools):
        body["tool_choice"] = choice.mode
    elif isinstance(choice, NamedFunction):
        body["tool_choice"] = {"type": "function", "function": {"name": choice.name}}
    elif choice is not None:
        body["tool_choice"] = choice
    if request.parallel_tool_calls is not None:
        body["parallel_tool_calls"] = request.parallel_tool_calls


def _chat_tool(tool: FunctionTool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        function["description"] = tool.description
    if tool.parameters is not None:
        function["parameters"] = tool.parameters
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}
