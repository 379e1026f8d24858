"""Pydantic validation errors, said the way OpenAI says them (one parameter, one reason)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from relaystack.catalog import CHOICE_MODELS, UNION_TAGS
from relaystack.errors import InvalidRequest
from relaystack.items import parts, reasoning
from relaystack.responses.request import TEXT_FORMAT_TYPES
from relaystack.tools.custom import INPUT_FORMAT_TYPES

# Union branch labels pydantic puts into error locations; they are not parameter names.
_TYPE_LABELS = {"str", "int", "float", "bool", "dict", "list", "none", "function-after"}
# Tags of discriminated unions that do not sit right after a list index.
_TAG_AFTER = {
    "tool_choice": {*(tag for tag, _ in CHOICE_MODELS), "allowed_tools"},
    "format": {*TEXT_FORMAT_TYPES, *INPUT_FORMAT_TYPES},
}

# Types of list elements that are tagged unions (input items, content parts, tools):
# every kind in the catalog, and the parts of messages and reasoning.
_LIST_TAGS = {*UNION_TAGS, *parts.CONTENT_PART_TYPES, *reasoning.PART_TYPES}

# Pydantic's bound errors, said as OpenAI says them ("integer below minimum value").
_BOUNDS = {
    "greater_than_equal": ("below", ">="),
    "greater_than": ("below", ">"),
    "less_than_equal": ("above", "<="),
    "less_than": ("above", "<"),
}

_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "dict_type": "an object",
    "model_type": "an object",
    "list_type": "an array",
    "model_attributes_type": "an object",
}


def to_invalid_request(exc: ValidationError) -> InvalidRequest:
    errors = exc.errors(include_url=False)
    error = max(errors, key=_specificity)
    param = _param_path(error["loc"])
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        return InvalidRequest(
            f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter"
        )
    if kind == "missing":
        return InvalidRequest(
            f"Missing required parameter: '{param}'.",
            param=param,
            code="missing_required_parameter",
        )
    if kind in _TYPE_NAMES:
        return InvalidRequest(
            f"Invalid type for '{param}': expected {_TYPE_NAMES[kind]}, "
            f"but got {_json_type(value)} instead.",
            param=param,
            code="invalid_type",
        )
    if kind in ("union_tag_invalid", "literal_error", "enum"):
        tag = (
            value.get("type") if kind == "union_tag_invalid" and isinstance(value, dict) else value
        )
        expected = error.get("ctx", {}).get("expected_tags") or error.get("ctx", {}).get("expected")
        if kind == "union_tag_invalid":
            param = f"{param}.type" if param else "type"
        return InvalidRequest(
            f"Invalid value: {_show(tag)}. Supported values are: {expected}.",
            param=param,
            code="invalid_value",
        )
    if kind in _BOUNDS:
        side, relation = _BOUNDS[kind]
        limit = next(iter(error.get("ctx", {}).values()), None)
        number = "decimal" if isinstance(limit, float) else "integer"
        return InvalidRequest(
            f"Invalid '{param}': {number} {side} {'minimum' if side == 'below' else 'maximum'}"
            f" value. Expected a value {relation} {limit}, but got {value} instead.",
            param=param,
            code=f"{number}_{side}_{'min' if side == 'below' else 'max'}_value",
        )
    message = error["msg"].removeprefix("Value error, ")
    return InvalidRequest(f"Invalid '{param}': {message}.", param=param, code="invalid_value")


def _specificity(error: dict[str, Any]) -> tuple[int, int]:
    loc = error["loc"]
    # Prefer errors from the structured branch of "string or list" parameters.
    through_plain_string = any(part == "str" for part in loc[:-1]) or (loc and loc[-1] == "str")
    return (0 if through_plain_string else 1, len(_param_parts(loc)))


def _param_parts(loc: tuple[Any, ...]) -> list[str | int]:
    parts: list[str | int] = []
    for index, part in enumerate(loc):
        if isinstance(part, int):
            parts.append(part)
            continue
        if "[" in part or part in _TYPE_LABELS:
            continue
        previous = parts[-1] if parts else None
        is_last = index == len(loc) - 1
        after_index = isinstance(previous, int) and isinstance(loc[index - 1], int)
        # The tag of a discriminated union inside a list; it ends the location when the
        # error is about the item as a whole.
        if after_index and (not is_last or part in _LIST_TAGS):
            continue
        if isinstance(previous, str) and part in _TAG_AFTER.get(previous, ()) and not is_last:
            continue
        parts.append(part)
    return parts


def _param_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in _param_parts(loc):
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _show(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value)
