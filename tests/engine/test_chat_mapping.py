"""Items to chat messages without sockets: each kind's ``to_chat`` through the catalog.

These rules keep upstream bodies byte-stable (they are recording keys), so each is
pinned here with the exact message it must produce.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from relaystack.catalog import ITEM_KINDS, TOOL_KINDS, InputItem
from relaystack.ids import IdSource
from relaystack.items.convert import normalize_items, to_chat_messages

_INPUT = TypeAdapter(list[InputItem])


def _ids() -> IdSource:
    return IdSource(make=lambda prefix: f"{prefix}_1")


def chat(raw_items: list[dict[str, Any]], instructions: str | None = None) -> list[dict[str, Any]]:
    items = normalize_items(_INPUT.validate_python(raw_items), ITEM_KINDS, _ids())
    return to_chat_messages(items, instructions, ITEM_KINDS)


def test_instructions_come_first_as_system() -> None:
    assert chat([{"role": "user", "content": "hi"}], "be brief") == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]


def test_one_text_part_is_a_plain_string_and_several_parts_stay_parts() -> None:
    parts = [
        {"type": "input_text", "text": "what is this?"},
        {"type": "input_image", "image_url": "data:image/png;base64,AA==", "detail": "low"},
    ]
    assert chat([{"role": "user", "content": [parts[0]]}]) == [
        {"role": "user", "content": "what is this?"}
    ]
    assert chat([{"role": "user", "content": parts}]) == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {
                    "type": "image_url",
                    "image_url": {"url": "data:image/png;base64,AA==", "detail": "low"},
                },
            ],
        }
    ]


def test_developer_goes_upstream_as_system() -> None:
    assert chat([{"role": "developer", "content": "rules"}]) == [
        {"role": "system", "content": "rules"}
    ]


def test_assistant_text_parts_are_joined_and_a_lone_refusal_stays_a_refusal() -> None:
    text = [{"type": "output_text", "text": "a"}, {"type": "output_text", "text": "b"}]
    assert chat([{"role": "assistant", "content": text}]) == [
        {"role": "assistant", "content": "ab"}
    ]
    refused = [{"type": "refusal", "refusal": "no"}]
    assert chat([{"role": "assistant", "content": refused}]) == [
        {"role": "assistant", "refusal": "no"}
    ]


def test_consecutive_calls_join_one_assistant_message_and_outputs_follow() -> None:
    items = [
        {"role": "user", "content": "weather?"},
        {"type": "function_call", "call_id": "c1", "name": "w", "arguments": '{"c":"A"}'},
        {"type": "function_call", "call_id": "c2", "name": "w", "arguments": '{"c":"B"}'},
        {"type": "function_call_output", "call_id": "c1", "output": "sun"},
        {
            "type": "function_call_output",
            "call_id": "c2",
            "output": [{"type": "input_text", "text": "ra"}, {"type": "input_text", "text": "in"}],
        },
    ]
    assert chat(items)[1:] == [
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "w", "arguments": '{"c":"A"}'},
                },
                {
                    "id": "c2",
                    "type": "function",
                    "function": {"name": "w", "arguments": '{"c":"B"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sun"},
        {"role": "tool", "tool_call_id": "c2", "content": "rain"},
    ]


def test_a_call_after_assistant_text_joins_that_message() -> None:
    items = [
        {"role": "assistant", "content": "let me check"},
        {"type": "function_call", "call_id": "c1", "name": "w", "arguments": "{}"},
    ]
    assert chat(items) == [
        {
            "role": "assistant",
            "content": "let me check",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}}
            ],
        }
    ]


def test_reasoning_stays_server_side() -> None:
    items = [
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "hm"}]},
        {"role": "user", "content": "go"},
    ]
    assert chat(items) == [{"role": "user", "content": "go"}]


def test_normalising_gives_ids_and_statuses_and_keeps_given_ids() -> None:
    items = normalize_items(
        _INPUT.validate_python(
            [
                {"role": "user", "content": "x"},
                {"id": "msg_mine", "role": "assistant", "content": "y", "status": "incomplete"},
            ]
        ),
        ITEM_KINDS,
        _ids(),
    )
    assert items[0] == {
        "id": "msg_1",
        "type": "message",
        "role": "user",
        "status": "completed",
        "content": [{"type": "input_text", "text": "x"}],
    }
    assert items[1]["id"] == "msg_mine"
    assert items[1]["status"] == "incomplete"
    assert items[1]["content"] == [
        {"type": "output_text", "text": "y", "annotations": [], "logprobs": []}
    ]


def test_every_kind_is_registered_once_under_its_own_type() -> None:
    for type_name, kind in ITEM_KINDS.items():
        assert kind.item_type == type_name
    for type_name, tool in TOOL_KINDS.items():
        assert tool.tool_type == type_name
        for kind in tool.item_kinds:
            assert ITEM_KINDS[kind.item_type] is kind


def test_an_unknown_item_type_is_rejected_by_its_tag() -> None:
    with pytest.raises(ValidationError) as caught:
        _INPUT.validate_python([{"type": "telepathy"}])
    assert caught.value.errors()[0]["type"] == "union_tag_invalid"
