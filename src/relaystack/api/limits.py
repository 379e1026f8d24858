"""Limits on the shape of request bodies, checked on the parsed JSON before any model.

Counting an array is cheap; validating each of its elements is not. So the counts
come first (a body of a million messages is refused in microseconds), then the
nesting depth (orjson reads 1024 levels but writes only 254: a body it cannot write
back must be refused here, not fail after the upstream call), and only then the
typed validation. Every refusal is a 400 naming the parameter and the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from relaystack.api.id_checks import Path, item_ids, param_name, response_ids
from relaystack.conversations.types import MAX_ITEMS_PER_CALL
from relaystack.errors import InvalidRequest


@dataclass(frozen=True)
class BodyLimits:
    max_input_items: int = 4096
    max_tools: int = 128
    max_content_parts: int = 1024
    max_depth: int = 64
    # Bodies this large or larger are parsed and validated off the event loop.
    offload_bytes: int = 64 * 1024
    body_timeout: float = 60.0


BodyCheck = Callable[[dict[str, Any], BodyLimits], None]


def any_body(data: dict[str, Any], limits: BodyLimits) -> None:
    check_depth(data, limits.max_depth)


def response_body(data: dict[str, Any], limits: BodyLimits) -> None:
    """``POST /v1/responses``."""
    check_array(data.get("input"), ["input"], limits.max_input_items)
    check_array(data.get("tools"), ["tools"], limits.max_tools)
    _check_parts(data.get("input"), ["input"], limits)
    check_depth(data, limits.max_depth)
    response_ids(data)


def conversation_body(data: dict[str, Any], limits: BodyLimits) -> None:
    """Creating a conversation or adding items: OpenAI's 20 items per call."""
    check_array(data.get("items"), ["items"], MAX_ITEMS_PER_CALL)
    _check_parts(data.get("items"), ["items"], limits)
    check_depth(data, limits.max_depth)
    item_ids(data.get("items"), ["items"])


def chat_body(data: dict[str, Any], limits: BodyLimits) -> None:
    """``POST /v1/chat/completions``: passed on, so only what relaystack itself pays for."""
    check_array(data.get("messages"), ["messages"], limits.max_input_items)
    check_array(data.get("tools"), ["tools"], limits.max_tools)
    _check_parts(data.get("messages"), ["messages"], limits)
    check_depth(data, limits.max_depth)


def check_array(value: Any, path: Path, limit: int) -> None:
    if isinstance(value, list) and len(value) > limit:
        param = param_name(path)
        raise InvalidRequest(
            f"Invalid '{param}': array too long. Expected an array with maximum length "
            f"{limit}, but got an array with length {len(value)} instead.",
            param=param,
            code="array_above_max_length",
        )


def _check_parts(items: Any, path: Path, limits: BodyLimits) -> None:
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if isinstance(item, dict):
            for field in ("content", "output"):
                check_array(item.get(field), [*path, index, field], limits.max_content_parts)


def check_depth(data: dict[str, Any], limit: int) -> None:
    path = _too_deep(data, limit)
    if path is None:
        return
    # The parameter is where free-form JSON starts (tools[0].parameters,
    # text.format.schema), not the whole way down.
    top = path[:3]
    while isinstance(top[-1], int):
        top.pop()
    param = param_name(top)
    raise InvalidRequest(
        f"Invalid '{param}': nested too deeply. Expected at most {limit} levels of "
        f"nesting in the request body, but '{param_name(path[:8])}...' goes deeper.",
        param=param,
        code="nesting_above_max_depth",
    )


def _too_deep(node: dict[str, Any] | list[Any], levels_left: int) -> Path | None:
    """The path to the first array or object beyond ``levels_left`` levels, if any."""
    if levels_left == 0:
        return []
    children = node.items() if type(node) is dict else enumerate(node)
    for key, child in children:
        if type(child) is dict or type(child) is list:
            below = _too_deep(child, levels_left - 1)
            if below is not None:
                return [key, *below]
    return None
