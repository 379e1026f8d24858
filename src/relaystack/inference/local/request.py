"""A chat-completions body, checked and reduced to what the local model can honour.

Everything a client can get wrong is rejected here, on the event loop, with a 400 that
names the parameter, before the request takes a place in the model's queue. Keys the
local model has no use for (``reasoning_effort``, ``user``, ``metadata`` ...) are
ignored, as most OpenAI-compatible servers do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from relaystack.errors import InvalidRequest

# Sampling defaults when the client sends none: llama-cpp-python's chat defaults, close
# to what SmolLM2's authors recommend (0.2 / 0.9). OpenAI's own defaults (1.0 / 1.0)
# make a 135M-parameter model ramble.
DEFAULT_TEMPERATURE = 0.2
DEFAULT_TOP_P = 0.95
MAX_STOP_SEQUENCES = 4

ToolMode = Literal["none", "auto", "required", "named"]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str | None
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    max_tokens: int | None = None
    temperature: float = DEFAULT_TEMPERATURE
    top_p: float = DEFAULT_TOP_P
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    # None, {"type": "json_object"} or the json_schema's "schema" (None: any JSON).
    response_format: Literal["text", "json_object", "json_schema"] = "text"
    response_schema: dict[str, Any] | None = None
    tools: list[FunctionSpec] = field(default_factory=list)
    tool_mode: ToolMode = "none"
    tool_name: str | None = None  # for tool_mode "named"
    include_usage: bool = False
    logprobs: bool = False
    top_logprobs: int = 0


def parse_chat_request(body: dict[str, Any]) -> ChatRequest:
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("'messages' must be a non-empty array.", param="messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise InvalidRequest(
                f"messages[{index}] must be an object with a 'role'.", param=f"messages[{index}]"
            )
    if body.get("n") not in (None, 1):
        raise InvalidRequest("The local model generates one choice per request.", param="n")
    tools = _tools(body.get("tools"))
    tool_mode, tool_name = _tool_choice(body.get("tool_choice"), tools)
    response_format, schema = _response_format(body.get("response_format"))
    stream_options = body.get("stream_options") or {}
    return ChatRequest(
        model=str(body.get("model") or ""),
        messages=messages,
        max_tokens=_max_tokens(body),
        temperature=_number(body, "temperature", DEFAULT_TEMPERATURE, 0.0, 2.0),
        top_p=_number(body, "top_p", DEFAULT_TOP_P, 0.0, 1.0),
        seed=_seed(body.get("seed")),
        stop=_stop(body.get("stop")),
        response_format=response_format,
        response_schema=schema,
        tools=tools,
        tool_mode=tool_mode,
        tool_name=tool_name,
        include_usage=bool(
            isinstance(stream_options, dict) and stream_options.get("include_usage")
        ),
        logprobs=_flag(body, "logprobs"),
        top_logprobs=_top_logprobs(body),
    )


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise InvalidRequest(f"'{key}' must be a boolean.", param=key)
    return bool(value)


def _top_logprobs(body: dict[str, Any]) -> int:
    value = body.get("top_logprobs")
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 20:
        raise InvalidRequest(
            "'top_logprobs' must be an integer from 0 to 20.", param="top_logprobs"
        )
    if not body.get("logprobs"):
        raise InvalidRequest("'top_logprobs' needs 'logprobs' set to true.", param="top_logprobs")
    return value


def _max_tokens(body: dict[str, Any]) -> int | None:
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidRequest(f"'{key}' must be a positive integer.", param=key)
        return value
    return None


def _number(body: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidRequest(f"'{key}' must be a number from {low} to {high}.", param=key)
    return float(value)


def _seed(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest("'seed' must be an integer.", param="seed")
    # llama.cpp takes a uint32 and treats 0xFFFFFFFF as "pick one at random".
    return value % 0xFFFFFFFF


def _stop(value: Any) -> list[str]:
    if value is None:
        return []
    stops = [value] if isinstance(value, str) else value
    if (
        not isinstance(stops, list)
        or len(stops) > MAX_STOP_SEQUENCES
        or not all(isinstance(s, str) for s in stops)
    ):
        raise InvalidRequest(
            f"'stop' must be a string or an array of at most {MAX_STOP_SEQUENCES} strings.",
            param="stop",
        )
    return [s for s in stops if s]


def _response_format(
    value: Any,
) -> tuple[Literal["text", "json_object", "json_schema"], dict[str, Any] | None]:
    if value is None:
        return "text", None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "text":
        return "text", None
    if kind == "json_object":
        return "json_object", None
    if kind == "json_schema":
        spec = value.get("json_schema")
        if not isinstance(spec, dict):
            raise InvalidRequest(
                "'response_format.json_schema' must be an object.",
                param="response_format.json_schema",
            )
        schema = spec.get("schema")
        if schema is not None and not isinstance(schema, dict):
            raise InvalidRequest(
                "'response_format.json_schema.schema' must be an object.",
                param="response_format.json_schema.schema",
            )
        return "json_schema", schema
    raise InvalidRequest(
        "'response_format.type' must be 'text', 'json_object' or 'json_schema'.",
        param="response_format",
    )


def _tools(value: Any) -> list[FunctionSpec]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRequest("'tools' must be an array.", param="tools")
    specs = []
    for index, tool in enumerate(value):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or tool.get("type") != "function":
            raise InvalidRequest(
                "The local model supports function tools only.", param=f"tools[{index}]"
            )
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidRequest("A function needs a name.", param=f"tools[{index}].function.name")
        parameters = function.get("parameters")
        if parameters is None:
            parameters = {"type": "object", "properties": {}}
        if not isinstance(parameters, dict):
            raise InvalidRequest(
                "'parameters' must be a JSON schema object.",
                param=f"tools[{index}].function.parameters",
            )
        description = function.get("description")
        specs.append(
            FunctionSpec(name, description if isinstance(description, str) else None, parameters)
        )
    return specs


def _tool_choice(value: Any, tools: list[FunctionSpec]) -> tuple[ToolMode, str | None]:
    if value is None:
        return ("auto" if tools else "none"), None
    if value == "none":
        return "none", None
    if value in ("auto", "required"):
        if not tools:
            if value == "auto":
                return "none", None
            raise InvalidRequest("tool_choice 'required' needs tools.", param="tool_choice")
        return value, None
    if isinstance(value, dict) and value.get("type") == "function":
        name = (value.get("function") or {}).get("name")
        if not any(tool.name == name for tool in tools):
            raise InvalidRequest(
                f"tool_choice names the function {name!r}, which is not in 'tools'.",
                param="tool_choice",
            )
        return "named", name
    raise InvalidRequest(
        "'tool_choice' must be 'none', 'auto', 'required' or a named function.",
        param="tool_choice",
    )
