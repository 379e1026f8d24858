"""Ids in request bodies, checked before anything is stored under them.

An id becomes a database key (``VARCHAR(80)``; PostgreSQL refuses NUL characters in
any string), so one that is too long or holds a control character would fail the
insert after the upstream call: a 500 for a turn already paid for. Refused here as a
400 naming the parameter instead. Call ids are kept inside items, not as keys, but
are sent upstream: the same characters rule, a looser length.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection

from relaystack.errors import InvalidRequest
from relaystack.store.keys import MAX_ID_LENGTH

MAX_CALL_ID_LENGTH = 256

# A parameter's place in the body: keys and list indices.
Path = list[str | int]


RESPONSE_PREFIX = "resp_"
CONVERSATION_PREFIX = "conv_"


def response_ids(data: dict[str, Any]) -> None:
    """``previous_response_id``, ``conversation`` and the ids of ``input`` items."""
    check_id(data.get("previous_response_id"), ["previous_response_id"])
    check_prefix(data.get("previous_response_id"), "previous_response_id", RESPONSE_PREFIX)
    conversation = data.get("conversation")
    if isinstance(conversation, dict):
        check_id(conversation.get("id"), ["conversation", "id"])
        check_prefix(conversation.get("id"), "conversation.id", CONVERSATION_PREFIX)
    else:
        check_id(conversation, ["conversation"])
        check_prefix(conversation, "conversation", CONVERSATION_PREFIX)
    item_ids(data.get("input"), ["input"])


async def path_id_shapes(request: HTTPConnection) -> None:
    """A router dependency: ``response_id`` and ``conversation_id`` path parameters."""
    params = request.path_params
    check_prefix(params.get("response_id"), "response_id", RESPONSE_PREFIX)
    check_prefix(params.get("conversation_id"), "conversation_id", CONVERSATION_PREFIX)


def check_prefix(value: Any, param: str, prefix: str) -> None:
    """An id of the wrong kind (``conversation: "abc"``) is the client's mistake, said as
    such (400), not a lookup that finds nothing (404)."""
    if isinstance(value, str) and not value.startswith(prefix):
        raise InvalidRequest(
            f"Invalid '{param}': '{value[:100]}'. Expected an ID that begins with '{prefix}'.",
            param=param,
            code="invalid_value",
        )


def item_ids(items: Any, path: Path) -> None:
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if isinstance(item, dict):
            check_id(item.get("id"), [*path, index, "id"])
            check_id(item.get("call_id"), [*path, index, "call_id"], MAX_CALL_ID_LENGTH)


def check_id(value: Any, path: Path, max_length: int = MAX_ID_LENGTH) -> None:
    if not isinstance(value, str):
        return  # absent, or the wrong type: the typed model says so
    if len(value) > max_length:
        param = param_name(path)
        raise InvalidRequest(
            f"Invalid '{param}': string too long. Expected a string with maximum length "
            f"{max_length}, but got a string with length {len(value)} instead.",
            param=param,
            code="string_above_max_length",
        )
    if not value.isprintable():
        param = param_name(path)
        raise InvalidRequest(
            f"Invalid '{param}': an id may not contain control characters.",
            param=param,
            code="invalid_value",
        )


def param_name(path: Path) -> str:
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name
