"""``truncation``: "auto" drops the oldest items until the context fits; "disabled" (the
default of remote models) refuses an oversize context before any upstream call."""

from __future__ import annotations

import json
import logging

import openai
import pytest

from tests.context.conftest import WINDOW
from tests.support.mock_upstream import MockUpstream
from tests.support.spec import assert_valid_event, assert_valid_response

MODEL = "openai/mock-model"  # WINDOW tokens, estimated
LONG = "word " * (WINDOW * 4 // 5)  # a whole window on its own (four characters a token)


def test_an_oversize_context_is_a_400_before_any_upstream_call(
    small: openai.OpenAI, upstream: MockUpstream
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        small.responses.create(model=MODEL, input=LONG)
    error = caught.value.body
    assert error["code"] == "context_length_exceeded"  # type: ignore[index]
    assert error["param"] == "input"  # type: ignore[index]
    assert str(WINDOW) in error["message"]  # type: ignore[index]
    assert upstream.requests == []


def test_a_stream_with_an_oversize_context_ends_failed(
    small: openai.OpenAI, upstream: MockUpstream
) -> None:
    events = [e.model_dump() for e in small.responses.create(model=MODEL, input=LONG, stream=True)]
    for event in events:
        assert_valid_event(event)
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.failed",
    ]
    failed = events[-1]["response"]
    assert failed["error"]["code"] == "context_length_exceeded"
    assert upstream.requests == []
    assert small.responses.retrieve(failed["id"]).status == "failed"


def test_auto_drops_the_oldest_items_and_keeps_instructions_and_new_input(
    small: openai.OpenAI, upstream: MockUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="relaystack.responses.context_plan")
    previous = None
    filler = "lorem ipsum dolor sit amet " * 6  # about 40 tokens a turn, 80 with its echo
    for turn in range(8):
        raw = small.responses.with_raw_response.create(
            model=MODEL,
            input=f"turn {turn} {filler}",
            previous_response_id=previous,
            truncation="auto",
            instructions="Be brief.",
            max_output_tokens=64,
        )
        previous = raw.parse().id
    body = raw.http_response.json()
    assert_valid_response(body)
    assert body["truncation"] == "auto"
    sent = upstream.requests[-1]["messages"]
    assert sent[0] == {"role": "system", "content": "Be brief."}
    assert sent[-1]["content"].startswith("turn 7 ")
    assert not any(m["content"].startswith("turn 0 ") for m in sent), "the oldest went first"
    assert sum(len(m["content"]) for m in sent) / 4 <= WINDOW - 64
    assert len(sent) < 1 + 2 * 8 - 1
    dropped = [r for r in caplog.records if "truncation dropped" in r.getMessage()]
    assert dropped and body["id"] in dropped[-1].getMessage()


def test_a_new_input_larger_than_the_window_fails_even_with_auto(small: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        small.responses.create(model=MODEL, input=LONG, truncation="auto")
    assert caught.value.body["code"] == "context_length_exceeded"  # type: ignore[index]


def test_a_call_and_its_output_are_dropped_together(
    small: openai.OpenAI, upstream: MockUpstream
) -> None:
    filler = "lorem ipsum dolor sit amet " * 12  # ~80 tokens
    arguments = json.dumps({"text": filler})
    items = [
        # A large call and a small output: dropping the call alone would be enough.
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": arguments},
        {"type": "function_call_output", "call_id": "call_1", "output": "ok"},
        {"type": "message", "role": "assistant", "content": "noted"},
        {"type": "message", "role": "user", "content": "more"},
    ]
    previous = small.responses.create(model=MODEL, input=items)  # type: ignore[arg-type]
    small.responses.create(
        model=MODEL,
        input="new " + "lorem ipsum dolor sit amet " * 34,  # ~230 tokens: just over
        previous_response_id=previous.id,
        truncation="auto",
        max_output_tokens=64,
    )
    sent = upstream.requests[-1]["messages"]
    # The oldest unit is the call with its output: both went, no result without its call.
    assert not any(m["role"] == "tool" or m.get("tool_calls") for m in sent)
    assert sent[-1]["content"].startswith("new ")
    assert any(str(m["content"]).startswith("echo: more") for m in sent), "newer items stay"
