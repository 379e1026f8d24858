"""Reusable prompts: a stored version's instructions and input, with ``{{name}}``
placeholders filled from a request's ``prompt.variables``.

A variable is a string, or an input content part (``input_text``, ``input_image``,
``input_file``). A string fills its placeholder anywhere; a part replaces its
placeholder inside a message's content (the text around it stays, as text parts), and
in ``instructions`` only an ``input_text`` part can stand. A placeholder without a
value is a 400 naming the variable.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import Field, TypeAdapter, ValidationError

from relaystack.catalog import InputItem
from relaystack.errors import InvalidRequest
from relaystack.strict import StrictModel

if TYPE_CHECKING:
    from relaystack.responses.request import CreateResponseRequest

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")

Variables = dict[str, Any]


class PromptRef(StrictModel):
    id: str = Field(min_length=1)
    version: str | None = Field(None, pattern=r"^[1-9][0-9]{0,8}$")
    variables: dict[str, str | dict[str, Any]] | None = None


class PromptBody(StrictModel):
    """A version's content, as ``POST /v1/prompts`` (and its ``versions``) take it."""

    name: str | None = Field(None, max_length=200)
    instructions: str | None = None
    input: str | list[InputItem] | None = None


_ITEMS: TypeAdapter[list[Any]] = TypeAdapter(list[InputItem])


def apply_prompt(
    request: CreateResponseRequest, version: dict[str, Any], variables: Variables
) -> CreateResponseRequest:
    """The request with the prompt's items before its own input, and the prompt's
    instructions unless the request brings its own."""
    instructions = request.instructions
    if instructions is None and version.get("instructions") is not None:
        instructions = _fill_instructions(version["instructions"], variables)
    raw = version.get("input")
    prompt_items = [_fill_item(item, variables) for item in _as_items(raw)]
    own = request.input
    own_items: list[Any] = list(own) if isinstance(own, list) else _as_items(own)
    try:
        items = _ITEMS.validate_python(prompt_items)
        if own is not None and not isinstance(own, list):
            own_items = _ITEMS.validate_python(own_items)
    except ValidationError as error:
        raise InvalidRequest(
            f"The prompt's input is not valid once its variables are filled in: "
            f"{error.errors()[0]['msg']}",
            param="prompt.variables",
        ) from None
    return request.model_copy(
        update={"instructions": instructions, "input": [*items, *own_items], "prompt": None}
    )


def _as_items(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [{"type": "message", "role": "user", "content": raw}]
    return list(raw)


def _fill_instructions(text: str, variables: Variables) -> str:
    pieces = _fill(text, variables)
    if any(not isinstance(piece, str) for piece in pieces):
        raise InvalidRequest(
            "Only text can fill a placeholder in a prompt's instructions.",
            param="prompt.variables",
        )
    return "".join(str(piece) for piece in pieces)


def _fill_item(item: dict[str, Any], variables: Variables) -> dict[str, Any]:
    content = item.get("content")
    if item.get("type", "message") != "message" or content is None:
        return item
    if isinstance(content, str):
        return {**item, "content": _content(_fill(content, variables), as_string=True)}
    parts: list[Any] = []
    for part in content:
        if part.get("type") == "input_text":
            parts.extend(_content(_fill(part["text"], variables), as_string=False))
        else:
            parts.append(part)
    return {**item, "content": parts}


def _fill(text: str, variables: Variables) -> list[str | dict[str, Any]]:
    """``text`` cut at its placeholders, each replaced by its value."""
    pieces: list[str | dict[str, Any]] = []
    start = 0
    for match in PLACEHOLDER.finditer(text):
        name = match.group(1)
        if name not in variables:
            raise InvalidRequest(
                f"Missing prompt variable '{name}'.",
                param=f"prompt.variables.{name}",
                code="missing_required_parameter",
            )
        pieces.append(text[start : match.start()])
        value = variables[name]
        if isinstance(value, dict) and value.get("type") == "input_text":
            value = str(value.get("text", ""))
        pieces.append(value)
        start = match.end()
    pieces.append(text[start:])
    return pieces


def _content(pieces: list[str | dict[str, Any]], *, as_string: bool) -> Any:
    merged: list[str | dict[str, Any]] = []
    for piece in pieces:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    if len(merged) == 1 and isinstance(merged[0], str):
        return merged[0] if as_string else [{"type": "input_text", "text": merged[0]}]
    return [
        {"type": "input_text", "text": piece} if isinstance(piece, str) else piece
        for piece in merged
        if piece != ""
    ]
