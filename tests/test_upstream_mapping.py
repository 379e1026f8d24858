"""What a Responses request becomes upstream (the chat-completions body the mock
received), and how the chat answer comes back as output items and usage."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.support.bodies import nulls_in
from tests.support.mock_upstream import MockUpstream, Reply

MODEL = "openai/gpt-4o"
BASE_KEYS = {"model", "messages", "stream", "stream_options"}

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
TIME = {
    "type": "function",
    "name": "get_time",
    "parameters": {"type": "object", "properties": {}},
}
CHAT_WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": WEATHER["parameters"],
        "strict": True,
    },
}
CHAT_TIME = {"type": "function", "function": {"name": "get_time", "parameters": TIME["parameters"]}}


def last_body(upstream: MockUpstream) -> dict[str, Any]:
    assert upstream.requests, "nothing reached the upstream"
    return upstream.requests[-1]


# ----- the minimal body ----------------------------------------------------------


def test_minimal_request_sends_only_what_is_needed(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    client.responses.create(model=MODEL, input="Hello there")
    body = last_body(upstream)
    assert body == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Hello there"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert len(upstream.requests) == 1


def test_upstream_model_has_the_provider_prefix_stripped(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    response = client.responses.create(model="openai/mock-model", input="Which model?")
    assert last_body(upstream)["model"] == "mock-model"
    assert response.model == "openai/mock-model"


def test_sampling_parameters_are_mapped(client: openai.OpenAI, upstream: MockUpstream) -> None:
    response = client.responses.create(
        model=MODEL, input="Sample", temperature=0.25, top_p=0.8, max_output_tokens=64
    )
    body = last_body(upstream)
    assert body["temperature"] == 0.25
    assert body["top_p"] == 0.8
    assert body["max_completion_tokens"] == 64
    assert "max_output_tokens" not in body
    assert "max_tokens" not in body
    assert set(body) == BASE_KEYS | {"temperature", "top_p", "max_completion_tokens"}
    assert (response.temperature, response.top_p, response.max_output_tokens) == (0.25, 0.8, 64)


def test_zero_temperature_is_sent_not_dropped(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    client.responses.create(model=MODEL, input="Deterministic", temperature=0)
    assert last_body(upstream)["temperature"] == 0


def test_response_only_parameters_never_reach_upstream(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    response = client.responses.create(
        model=MODEL,
        input="Keep these to yourself",
        metadata={"ticket": "T-1234", "team": "relay"},
        store=True,
        user="user-42",
        safety_identifier="safe-1",
        prompt_cache_key="cache-key",
        truncation="disabled",
        service_tier="auto",
    )
    body = last_body(upstream)
    assert set(body) == BASE_KEYS
    serialized = json.dumps(body)
    for secret in ("T-1234", "relay", "user-42", "safe-1", "cache-key"):
        assert secret not in serialized
    assert response.metadata == {"ticket": "T-1234", "team": "relay"}


def test_metadata_is_stored_and_echoed(client: openai.OpenAI, upstream: MockUpstream) -> None:
    created = client.responses.create(model=MODEL, input="Tag me", metadata={"k": "v", "n": "1"})
    assert created.metadata == {"k": "v", "n": "1"}
    assert client.responses.retrieve(created.id).metadata == {"k": "v", "n": "1"}
    assert "metadata" not in last_body(upstream)
    plain = client.responses.create(model=MODEL, input="No tags")
    assert plain.metadata == {}


def test_full_request_has_no_nulls_upstream(client: openai.OpenAI, upstream: MockUpstream) -> None:
    client.responses.create(
        model=MODEL,
        instructions="Answer in French.",
        input=[
            {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
        ],
        tools=[WEATHER, TIME],
        tool_choice="auto",
        parallel_tool_calls=False,
        temperature=0.5,
        top_p=0.9,
        max_output_tokens=100,
        text={"format": {"type": "json_object"}},
        reasoning={"effort": "low"},
        metadata={"a": "b"},
    )
    body = last_body(upstream)
    assert nulls_in(body) == []
    assert set(body) == BASE_KEYS | {
        "temperature",
        "top_p",
        "max_completion_tokens",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "reasoning_effort",
    }
    assert body["reasoning_effort"] == "low"


# ----- instructions --------------------------------------------------------------


def test_instructions_go_first_as_a_system_message(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    response = client.responses.create(
        model=MODEL,
        instructions="You are a pirate.",
        input=[
            {"role": "developer", "content": "Developer note"},
            {"role": "user", "content": "Ahoy?"},
        ],
    )
    messages = last_body(upstream)["messages"]
    assert messages[0] == {"role": "system", "content": "You are a pirate."}
    assert messages[1]["content"] == "Developer note"
    assert messages[2] == {"role": "user", "content": "Ahoy?"}
    assert len(messages) == 3
    assert response.instructions == "You are a pirate."


def test_instructions_are_not_inherited_by_a_chained_response(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["Arr."]), Reply(content=["Hello."]), Reply(content=["HI"]))
    first = client.responses.create(model=MODEL, instructions="Talk like a pirate.", input="Hi")
    second = client.responses.create(model=MODEL, previous_response_id=first.id, input="Again")
    assert upstream.requests[1]["messages"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Arr."},
        {"role": "user", "content": "Again"},
    ]
    assert second.instructions is None

    client.responses.create(
        model=MODEL, previous_response_id=second.id, instructions="Shout.", input="Once more"
    )
    messages = upstream.requests[2]["messages"]
    assert messages[0] == {"role": "system", "content": "Shout."}
    assert "Talk like a pirate." not in json.dumps(messages)


# ----- previous_response_id context ----------------------------------------------


def test_chain_sends_previous_input_previous_output_then_new_input(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(
        Reply(content=["Paris."]), Reply(content=["2.1 million."]), Reply(content=["Ok"])
    )
    first = client.responses.create(
        model=MODEL,
        input=[
            {"role": "system", "content": "Be factual."},
            {"role": "user", "content": "Capital of France?"},
        ],
    )
    second = client.responses.create(
        model=MODEL, previous_response_id=first.id, input="Population?"
    )
    client.responses.create(model=MODEL, previous_response_id=second.id, input="Thanks")
    assert upstream.requests[2]["messages"] == [
        {"role": "system", "content": "Be factual."},
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "Population?"},
        {"role": "assistant", "content": "2.1 million."},
        {"role": "user", "content": "Thanks"},
    ]
    assert second.previous_response_id == first.id


def test_branching_from_the_same_previous_response(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["Root"]), Reply(content=["A"]), Reply(content=["B"]))
    root = client.responses.create(model=MODEL, input="start")
    client.responses.create(model=MODEL, previous_response_id=root.id, input="branch a")
    client.responses.create(model=MODEL, previous_response_id=root.id, input="branch b")
    assert upstream.requests[2]["messages"] == [
        {"role": "user", "content": "start"},
        {"role": "assistant", "content": "Root"},
        {"role": "user", "content": "branch b"},
    ]


# ----- tools and tool_choice -----------------------------------------------------


def test_function_tools_become_chat_tools(client: openai.OpenAI, upstream: MockUpstream) -> None:
    response = client.responses.create(model=MODEL, input="Tools", tools=[WEATHER, TIME])
    body = last_body(upstream)
    assert body["tools"] == [CHAT_WEATHER, CHAT_TIME]
    assert "tool_choice" not in body
    assert "parallel_tool_calls" not in body
    assert [tool.name for tool in response.tools] == ["get_weather", "get_time"]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        (
            {"type": "function", "name": "get_time"},
            {"type": "function", "function": {"name": "get_time"}},
        ),
    ],
    ids=["auto", "none", "required", "named"],
)
def test_tool_choice_is_mapped(
    client: openai.OpenAI, upstream: MockUpstream, choice: Any, expected: Any
) -> None:
    response = client.responses.create(
        model=MODEL, input="Choose", tools=[WEATHER, TIME], tool_choice=choice
    )
    body = last_body(upstream)
    assert body["tool_choice"] == expected
    assert body["tools"] == [CHAT_WEATHER, CHAT_TIME]
    echoed = response.tool_choice
    assert (echoed if isinstance(echoed, str) else echoed.model_dump()) == choice


def test_allowed_tools_narrow_the_tools_upstream(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    choice = {
        "type": "allowed_tools",
        "mode": "required",
        "tools": [{"type": "function", "name": "get_time"}],
    }
    client.responses.create(
        model=MODEL, input="Only time", tools=[WEATHER, TIME], tool_choice=choice
    )
    body = last_body(upstream)
    if isinstance(body.get("tool_choice"), dict):  # chat's own allowed_tools form
        assert body["tool_choice"] == {
            "type": "allowed_tools",
            "allowed_tools": {
                "mode": "required",
                "tools": [{"type": "function", "function": {"name": "get_time"}}],
            },
        }
    else:  # or: only the allowed tools are offered, with the mode as the choice
        assert body["tools"] == [CHAT_TIME]
        assert body["tool_choice"] == "required"


@pytest.mark.parametrize("parallel", [True, False])
def test_parallel_tool_calls_is_mapped(
    client: openai.OpenAI, upstream: MockUpstream, parallel: bool
) -> None:
    response = client.responses.create(
        model=MODEL, input="Parallel", tools=[WEATHER], parallel_tool_calls=parallel
    )
    assert last_body(upstream)["parallel_tool_calls"] is parallel
    assert response.parallel_tool_calls is parallel


# ----- structured output ---------------------------------------------------------


def test_json_schema_format_becomes_response_format(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    upstream.queue(Reply(content=['{"answer": "yes"}']))
    response = client.responses.create(
        model=MODEL,
        input="Answer in JSON",
        text={
            "format": {
                "type": "json_schema",
                "name": "answer",
                "schema": schema,
                "strict": True,
                "description": "One answer",
            }
        },
    )
    assert last_body(upstream)["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "schema": schema,
            "strict": True,
            "description": "One answer",
        },
    }
    assert json.loads(response.output_text) == {"answer": "yes"}
    assert response.text.format.type == "json_schema"


def test_json_object_format_becomes_response_format(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    client.responses.create(
        model=MODEL, input="JSON please", text={"format": {"type": "json_object"}}
    )
    assert last_body(upstream)["response_format"] == {"type": "json_object"}


def test_text_format_sends_no_response_format(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    client.responses.create(model=MODEL, input="Text please", text={"format": {"type": "text"}})
    assert "response_format" not in last_body(upstream)


# ----- function calls and their outputs ------------------------------------------


def test_function_call_round_trip_with_previous_response_id(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    arguments = '{"city":"Paris"}'
    upstream.queue(
        Reply(tool_calls=[{"id": "call_p1", "name": "get_weather", "arguments": arguments}]),
        Reply(content=["Sunny in Paris."]),
    )
    first = client.responses.create(model=MODEL, input="Weather in Paris?", tools=[WEATHER])
    (call,) = first.output
    assert call.type == "function_call"
    assert (call.call_id, call.name, call.arguments) == ("call_p1", "get_weather", arguments)
    assert call.status == "completed"
    assert call.id and call.id != call.call_id

    second = client.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        tools=[WEATHER],
        input=[{"type": "function_call_output", "call_id": "call_p1", "output": "22C, sunny"}],
    )
    assert second.output_text == "Sunny in Paris."
    messages = upstream.requests[1]["messages"]
    assert messages[0] == {"role": "user", "content": "Weather in Paris?"}
    assistant = messages[1]
    assert assistant["role"] == "assistant"
    assert assistant["tool_calls"] == [
        {
            "id": "call_p1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": arguments},
        }
    ]
    assert not assistant.get("content")
    assert messages[2] == {"role": "tool", "tool_call_id": "call_p1", "content": "22C, sunny"}
    assert len(messages) == 3


def test_function_calls_sent_back_explicitly_become_one_assistant_message(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    client.responses.create(
        model=MODEL,
        tools=[WEATHER],
        input=[
            {"role": "user", "content": "Weather in Oslo and Rome?"},
            {
                "type": "function_call",
                "call_id": "call_o",
                "name": "get_weather",
                "arguments": '{"city":"Oslo"}',
            },
            {
                "type": "function_call",
                "call_id": "call_r",
                "name": "get_weather",
                "arguments": '{"city":"Rome"}',
            },
            {"type": "function_call_output", "call_id": "call_o", "output": "cold"},
            {
                "type": "function_call_output",
                "call_id": "call_r",
                "output": [{"type": "input_text", "text": "warm"}],
            },
        ],
    )
    messages = last_body(upstream)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "tool"]
    assert [c["id"] for c in messages[1]["tool_calls"]] == ["call_o", "call_r"]
    assert [c["function"]["arguments"] for c in messages[1]["tool_calls"]] == [
        '{"city":"Oslo"}',
        '{"city":"Rome"}',
    ]
    assert messages[2] == {"role": "tool", "tool_call_id": "call_o", "content": "cold"}
    assert messages[3] == {"role": "tool", "tool_call_id": "call_r", "content": "warm"}


def test_outputs_reach_upstream_right_after_their_call_whatever_the_input_order(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    client.responses.create(
        model=MODEL,
        tools=[WEATHER],
        input=[
            {"role": "user", "content": "Weather in Oslo?"},
            {
                "type": "function_call",
                "call_id": "call_o",
                "name": "get_weather",
                "arguments": '{"city":"Oslo"}',
            },
            {"role": "user", "content": "and hurry"},
            {"role": "developer", "content": "be brief"},
            {"type": "function_call_output", "call_id": "call_o", "output": "cold"},
            {"type": "function_call_output", "call_id": "call_unknown", "output": "orphan"},
        ],
    )
    messages = last_body(upstream)["messages"]
    assert [(m["role"], m.get("tool_call_id"), m.get("content")) for m in messages] == [
        ("user", None, "Weather in Oslo?"),
        ("assistant", None, None),
        ("tool", "call_o", "cold"),
        ("user", None, "and hurry"),
        ("system", None, "be brief"),
        ("tool", "call_unknown", "orphan"),  # no call to follow: it stays where it was
    ]


def test_parallel_tool_calls_come_back_as_separate_items(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(
        Reply(
            tool_calls=[
                {"id": "call_1", "name": "get_weather", "arguments": '{"city":"A"}'},
                {"id": "call_2", "name": "get_time", "arguments": "{}"},
            ]
        )
    )
    response = client.responses.create(model=MODEL, input="Both", tools=[WEATHER, TIME])
    assert [(i.type, i.call_id, i.name) for i in response.output] == [
        ("function_call", "call_1", "get_weather"),
        ("function_call", "call_2", "get_time"),
    ]
    assert len({item.id for item in response.output}) == 2


def test_text_before_a_tool_call_is_kept_in_order(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(
        Reply(
            content=["Let me check."],
            tool_calls=[{"id": "call_t", "name": "get_time", "arguments": "{}"}],
        )
    )
    first = client.responses.create(model=MODEL, input="Time?", tools=[TIME])
    assert [item.type for item in first.output] == ["message", "function_call"]
    client.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        tools=[TIME],
        input=[{"type": "function_call_output", "call_id": "call_t", "output": "noon"}],
    )
    messages = last_body(upstream)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
    assert messages[1]["content"] == "Let me check."
    assert messages[1]["tool_calls"][0]["id"] == "call_t"


# ----- reasoning and usage -------------------------------------------------------


def test_reasoning_content_becomes_a_reasoning_item(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(reasoning=["First ", "think."], content=["Answer."]))
    response = client.responses.create(model=MODEL, input="Think first")
    reasoning, message = response.output
    assert reasoning.type == "reasoning"
    assert reasoning.content is not None
    assert [(c.type, c.text) for c in reasoning.content] == [("reasoning_text", "First think.")]
    assert reasoning.summary == []
    assert message.type == "message"
    assert response.output_text == "Answer."
    assert response.usage.output_tokens_details.reasoning_tokens == 2


def test_reasoning_effort_is_sent_and_echoed(client: openai.OpenAI, upstream: MockUpstream) -> None:
    response = client.responses.create(model=MODEL, input="Hard", reasoning={"effort": "high"})
    assert last_body(upstream)["reasoning_effort"] == "high"
    assert response.reasoning.effort == "high"


def test_usage_is_mapped(client: openai.OpenAI, upstream: MockUpstream) -> None:
    upstream.queue(
        Reply(
            content=["Counted."],
            usage={
                "prompt_tokens": 120,
                "completion_tokens": 30,
                "total_tokens": 150,
                "prompt_tokens_details": {"cached_tokens": 100},
                "completion_tokens_details": {"reasoning_tokens": 12},
            },
        )
    )
    response = client.responses.create(model=MODEL, input="Count")
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (120, 30, 150)
    assert usage.input_tokens_details.cached_tokens == 100
    assert usage.output_tokens_details.reasoning_tokens == 12
    stored = client.responses.retrieve(response.id).usage
    assert stored is not None and stored.total_tokens == 150


def test_usage_without_details_reports_zeros(client: openai.OpenAI, upstream: MockUpstream) -> None:
    upstream.queue(
        Reply(
            content=["Bare."],
            usage={"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9},
        )
    )
    usage = client.responses.create(model=MODEL, input="Bare usage").usage
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (7, 2, 9)
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0


def test_refusal_comes_back_as_a_refusal_part(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(refusal=["I can't ", "help with that."]))
    response = client.responses.create(model=MODEL, input="Something bad")
    (message,) = response.output
    assert [(part.type, part.refusal) for part in message.content] == [
        ("refusal", "I can't help with that.")
    ]


# ----- input content -------------------------------------------------------------

PNG_DATA_URL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def test_images_become_chat_image_url_parts(client: openai.OpenAI, upstream: MockUpstream) -> None:
    response = client.responses.create(
        model=MODEL,
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Compare these"},
                    {"type": "input_image", "image_url": "https://example.com/cat.png"},
                    {"type": "input_image", "image_url": PNG_DATA_URL, "detail": "high"},
                ],
            }
        ],
    )
    (message,) = last_body(upstream)["messages"]
    assert message == {
        "role": "user",
        "content": [
            {"type": "text", "text": "Compare these"},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            {"type": "image_url", "image_url": {"url": PNG_DATA_URL, "detail": "high"}},
        ],
    }
    items = client.responses.input_items.list(response.id).data
    parts = items[0].content
    assert [p.type for p in parts] == ["input_text", "input_image", "input_image"]
    assert parts[2].image_url == PNG_DATA_URL


def test_input_file_becomes_a_chat_file_part(client: openai.OpenAI, upstream: MockUpstream) -> None:
    file_data = "data:application/pdf;base64,JVBERi0xLjQK"
    client.responses.create(
        model=MODEL,
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_file", "filename": "doc.pdf", "file_data": file_data},
                    {"type": "input_text", "text": "Summarise the file"},
                ],
            }
        ],
    )
    (message,) = last_body(upstream)["messages"]
    assert message["content"] == [
        {"type": "file", "file": {"file_data": file_data, "filename": "doc.pdf"}},
        {"type": "text", "text": "Summarise the file"},
    ]


def test_every_role_reaches_upstream(client: openai.OpenAI, upstream: MockUpstream) -> None:
    client.responses.create(
        model=MODEL,
        input=[
            {"role": "system", "content": "System rule"},
            {"type": "message", "role": "developer", "content": "Developer rule"},
            {"role": "user", "content": "Question"},
            {"role": "assistant", "content": [{"type": "output_text", "text": "Old answer"}]},
            {"role": "user", "content": [{"type": "input_text", "text": "Follow-up"}]},
        ],
    )
    messages = last_body(upstream)["messages"]
    assert messages[0] == {"role": "system", "content": "System rule"}
    # As the README says: "developer" goes upstream as "system" (many servers lack it).
    assert messages[1]["role"] == "system"
    assert messages[1]["content"] == "Developer rule"
    assert messages[2:] == [
        {"role": "user", "content": "Question"},
        {"role": "assistant", "content": "Old answer"},
        {"role": "user", "content": "Follow-up"},
    ]


def test_assistant_refusal_in_input_reaches_upstream(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": "Do the bad thing"},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "I won't."}]},
            {"role": "user", "content": "Fine, something else"},
        ],
    )
    messages = last_body(upstream)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assistant = messages[1]
    assert assistant.get("refusal") == "I won't." or assistant.get("content") == "I won't."
    assert nulls_in(last_body(upstream)) == []


def test_reasoning_items_in_input_are_accepted(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    response = client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": "Earlier question"},
            {
                "type": "reasoning",
                "id": "rs_earlier",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": "earlier thoughts"}],
            },
            {"role": "assistant", "content": "Earlier answer"},
            {"role": "user", "content": "New question"},
        ],
    )
    assert response.status == "completed"
    messages = last_body(upstream)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == "Earlier answer"
    items = client.responses.input_items.list(response.id, order="asc").data
    assert [item.type for item in items] == ["message", "reasoning", "message", "message"]
    assert items[1].id == "rs_earlier"


def test_output_items_can_be_sent_back_as_input(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    """The manual alternative to previous_response_id: send the output items back."""
    upstream.queue(
        Reply(reasoning=["hmm"], content=["Four."]),
        Reply(content=["Eight."]),
    )
    first = client.responses.create(model=MODEL, input="2+2?", store=False)
    history: list[Any] = [{"role": "user", "content": "2+2?"}]
    history += [item.model_dump(exclude_none=True) for item in first.output]
    history.append({"role": "user", "content": "Double it"})
    second = client.responses.create(model=MODEL, input=history, store=False)
    assert second.output_text == "Eight."
    assert upstream.requests[1]["messages"] == [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "Four."},
        {"role": "user", "content": "Double it"},
    ]


def test_sdk_parse_with_a_pydantic_format(client: openai.OpenAI, upstream: MockUpstream) -> None:
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        population: int

    upstream.queue(Reply(content=['{"name": "Lyon", ', '"population": 520000}']))
    parsed = client.responses.parse(model=MODEL, input="A French city", text_format=City)
    assert parsed.output_parsed == City(name="Lyon", population=520000)
    response_format = last_body(upstream)["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "City"
    assert response_format["json_schema"]["strict"] is True
    assert set(response_format["json_schema"]["schema"]["properties"]) == {"name", "population"}
