"""``POST /v1/responses/input_tokens``: the tokens a turn's upstream call would read,
counted without calling the model."""

from __future__ import annotations

import math
from typing import Any

import bpe_openai
import httpx
import openai

from relaystack.inference.tokens import message_text
from tests.support.mock_upstream import MockUpstream


def _o200k(messages: list[dict[str, Any]]) -> int:
    encoding = bpe_openai.get_encoding("o200k_base")
    return 3 + sum(3 + len(encoding.encode(message_text(m))) for m in messages)


def _estimate(messages: list[dict[str, Any]]) -> int:
    return 3 + sum(3 + math.ceil(len(message_text(m)) / 4) for m in messages)


def test_counts_what_the_turn_sends_upstream_in_the_models_encoding(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    first = client.responses.create(model="openai/gpt-4o", input="Bonjour, ça va? 你好")
    request = {
        "model": "openai/gpt-4o",
        "input": "And now a longer question about tokenizers, please.",
        "instructions": "Answer briefly.",
        "previous_response_id": first.id,
    }
    calls = len(upstream.requests)
    counted = client.responses.input_tokens.count(**request)  # type: ignore[arg-type]
    assert counted.object == "response.input_tokens"
    assert len(upstream.requests) == calls, "counting must not call the model"
    client.responses.create(**request)  # type: ignore[call-overload]
    sent = upstream.requests[-1]["messages"]
    assert counted.input_tokens == _o200k(sent)
    assert counted.input_tokens != _estimate(sent)  # the real encoding, not the estimate


def test_a_model_without_a_known_encoding_is_estimated(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    text = "x" * 401
    counted = client.responses.input_tokens.count(model="openai/mock-model", input=text)
    client.responses.create(model="openai/mock-model", input=text)
    assert counted.input_tokens == _estimate(upstream.requests[-1]["messages"])


def test_tools_count(client: openai.OpenAI) -> None:
    tool = {
        "type": "function",
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    bare = client.responses.input_tokens.count(model="openai/gpt-4o", input="Weather?")
    with_tool = client.responses.input_tokens.count(
        model="openai/gpt-4o",
        input="Weather?",
        tools=[tool],  # type: ignore[list-item]
    )
    assert with_tool.input_tokens > bare.input_tokens + 10


def test_bad_requests_are_clear(client: openai.OpenAI, server: str) -> None:
    answer = httpx.post(f"{server}/responses/input_tokens", json={"input": "hi"})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "model"
    try:
        client.responses.input_tokens.count(model="openai/nope", input="hi")
    except openai.NotFoundError as error:
        assert error.body["param"] == "model"  # type: ignore[index]
    else:
        raise AssertionError("an unknown model must be a 404")
    try:
        client.responses.input_tokens.count(
            model="openai/gpt-4o", input="hi", previous_response_id="resp_missing"
        )
    except openai.NotFoundError as error:
        assert error.body["param"] == "previous_response_id"  # type: ignore[index]
    else:
        raise AssertionError("an unknown previous response must be a 404")


def test_a_conversations_items_count(client: openai.OpenAI, upstream: MockUpstream) -> None:
    conversation = client.conversations.create(
        items=[{"type": "message", "role": "user", "content": "An earlier question " * 20}]
    )
    alone = client.responses.input_tokens.count(model="openai/gpt-4o", input="Now?")
    within = client.responses.input_tokens.count(
        model="openai/gpt-4o", input="Now?", conversation=conversation.id
    )
    client.responses.create(model="openai/gpt-4o", input="Now?", conversation=conversation.id)
    assert within.input_tokens == _o200k(upstream.requests[-1]["messages"])
    assert within.input_tokens > alone.input_tokens + 20
