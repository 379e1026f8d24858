"""Property tests (hypothesis, a fixed budget): the items -> chat messages walk and the
recorder's key normalisation hold their rules for any input, not only the examples."""

from __future__ import annotations

import json
import random
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from relaystack.catalog import ITEM_KINDS, InputItem
from relaystack.ids import IdSource
from relaystack.items.convert import normalize_items, results_after_calls, to_chat_messages
from relaystack.recording.keys import normalize_body, request_key

BUDGET = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
_INPUT = TypeAdapter(list[InputItem])

# ----- items -> chat messages -----------------------------------------------------

CALL_IDS = st.sampled_from(["call_a", "call_b", "call_c", "call_d"])
TEXT = st.text(max_size=12)
MESSAGE = st.fixed_dictionaries(
    {
        "type": st.just("message"),
        "role": st.sampled_from(["user", "system", "developer", "assistant"]),
        "content": TEXT,
    }
)
CALL = st.fixed_dictionaries(
    {
        "type": st.just("function_call"),
        "call_id": CALL_IDS,
        "name": st.sampled_from(["lookup", "ping"]),
        "arguments": st.just("{}"),
    }
)
OUTPUT = st.fixed_dictionaries(
    {"type": st.just("function_call_output"), "call_id": CALL_IDS, "output": TEXT}
)
REASONING = st.fixed_dictionaries(
    {"type": st.just("reasoning"), "summary": st.just([])},
    optional={"content": st.just([{"type": "reasoning_text", "text": "thinking"}])},
)
ITEMS = st.lists(st.one_of(MESSAGE, CALL, OUTPUT, REASONING), max_size=12)


def _chat(raw: list[dict[str, Any]], instructions: str | None) -> list[dict[str, Any]]:
    counter = iter(range(10_000))
    ids = IdSource(make=lambda prefix: f"{prefix}_{next(counter)}")
    items = normalize_items(_INPUT.validate_python(raw), ITEM_KINDS, ids)
    return to_chat_messages(items, instructions, ITEM_KINDS)


def _calls(message: dict[str, Any]) -> list[str]:
    return [call["id"] for call in message.get("tool_calls") or ()]


@BUDGET
@given(raw=ITEMS, instructions=st.none() | TEXT)
def test_every_item_is_said_once_in_order_with_results_after_their_calls(
    raw: list[dict[str, Any]], instructions: str | None
) -> None:
    messages = _chat(raw, instructions)
    roles = {message["role"] for message in messages}
    assert roles <= {"system", "user", "assistant", "tool"}  # developer is said as system
    if instructions:
        assert messages[0] == {"role": "system", "content": instructions}
    # Each message item and each call output is one message; reasoning is none; calls
    # join an assistant message. Nothing is lost or invented.
    said_texts = [m["content"] for m in messages if m["role"] in ("user", "system")]
    wanted = [i["content"] for i in raw if i["type"] == "message" and i["role"] != "assistant"]
    assert said_texts[1 if instructions else 0 :] == wanted
    assert sorted(c for m in messages for c in _calls(m)) == sorted(
        i["call_id"] for i in raw if i["type"] == "function_call"
    )
    tool_messages = [m for m in messages if m["role"] == "tool"]
    assert sorted(m["tool_call_id"] for m in tool_messages) == sorted(
        i["call_id"] for i in raw if i["type"] == "function_call_output"
    )
    # A result whose call is in the list comes after it, with only results between.
    for index, message in enumerate(messages):
        if message["role"] != "tool":
            continue
        holders = [i for i, m in enumerate(messages) if message["tool_call_id"] in _calls(m)]
        if holders:
            assert holders[0] < index
            assert all(m["role"] == "tool" for m in messages[holders[0] + 1 : index])
    assert json.loads(json.dumps(messages)) == messages  # plain JSON, nothing else


MESSAGES = st.lists(
    st.one_of(
        st.builds(lambda t: {"role": "user", "content": t}, TEXT),
        st.builds(
            lambda ids: {"role": "assistant", "tool_calls": [{"id": i} for i in ids]},
            st.lists(CALL_IDS, min_size=1, max_size=2, unique=True),
        ),
        st.builds(lambda c, t: {"role": "tool", "tool_call_id": c, "content": t}, CALL_IDS, TEXT),
    ),
    max_size=12,
)


@BUDGET
@given(messages=MESSAGES)
def test_moving_results_after_calls_only_reorders_and_is_idempotent(
    messages: list[dict[str, Any]],
) -> None:
    ordered = results_after_calls([dict(m) for m in messages])
    assert sorted(map(repr, ordered)) == sorted(map(repr, messages))
    others = [m for m in messages if m["role"] != "tool"]
    assert [m for m in ordered if m["role"] != "tool"] == others
    assert results_after_calls([dict(m) for m in ordered]) == ordered


# ----- the recorder's key normalisation ---------------------------------------------

# The reference recorder's own pattern: ours must find the same matches, in linear time.
REFERENCE_FLOAT = re.compile(r"(-?\d+\.\d{4,})")
NUMERIC_TEXT = st.text(alphabet="0123456789.-a ", max_size=60)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | NUMERIC_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@BUDGET
@given(text=NUMERIC_TEXT)
def test_floats_in_strings_round_as_the_reference_rounds_them(text: str) -> None:
    reference = REFERENCE_FLOAT.sub(lambda m: f"{float(m.group(0)):.5f}", text)
    assert normalize_body(text) == reference


@BUDGET
@given(value=JSON_VALUES)
def test_normalising_keeps_the_shape_and_is_idempotent(value: Any) -> None:
    once = normalize_body(value)
    assert normalize_body(once) == once
    assert _shape(once) == _shape(value)


@BUDGET
@given(body=st.dictionaries(TEXT, JSON_VALUES, max_size=6), seed=st.integers(0, 1000))
def test_the_key_ignores_key_order_and_float_noise(body: dict[str, Any], seed: int) -> None:
    keys = list(body)
    random.Random(seed).shuffle(keys)
    shuffled = {key: body[key] for key in keys}
    url = "http://upstream/v1/v1/chat/completions"
    assert request_key("POST", url, shuffled, "t") == request_key("POST", url, body, "t")
    assert request_key("post", url, body, "t") == request_key("POST", url, body, "t")
    noisy = {**body, "temperature": 0.7 + 1e-9}
    plain = {**body, "temperature": 0.7}
    assert request_key("POST", url, noisy, "t") == request_key("POST", url, plain, "t")
    assert request_key("POST", url, body, "t") != request_key("POST", url, body, "u")


def _shape(value: Any) -> Any:
    """The value with every float and string replaced by its type: what rounding keeps."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    if isinstance(value, float | str):
        return type(value).__name__
    return value
