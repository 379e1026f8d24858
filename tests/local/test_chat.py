"""Chat turns on the real SmolLM2 model: text, streams, usage, limits, JSON, tool calls."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from llama_cpp import Llama

from relaystack.errors import InvalidRequest, NotFound
from relaystack.inference.local.model import default_model_path
from relaystack.inference.local.provider import LocalProvider
from tests.local.support import MODEL, chat

WEATHER_PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 30}},
    "required": ["city"],
    "additionalProperties": False,
}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": WEATHER_PARAMS,
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "Current time in a time zone",
            "parameters": {
                "type": "object",
                "properties": {"zone": {"type": "string", "maxLength": 30}},
                "required": ["zone"],
            },
        },
    },
]


async def stream(provider: LocalProvider, body: dict[str, Any]) -> list[dict[str, Any]]:
    return [chunk async for chunk in provider.stream_chat_completion(body)]


def streamed_text(chunks: list[dict[str, Any]]) -> str:
    return "".join(
        chunk["choices"][0]["delta"].get("content") or "" for chunk in chunks if chunk["choices"]
    )


async def test_list_models(provider: LocalProvider) -> None:
    models = {model.id: model for model in await provider.list_models()}
    assert models[MODEL].metadata["model_type"] == "llm"


async def test_completion_has_text_and_real_usage(provider: LocalProvider) -> None:
    result = await provider.chat_completion(
        chat("What is the capital of France?", max_completion_tokens=32, temperature=0)
    )
    assert result["object"] == "chat.completion"
    assert result["id"].startswith("chatcmpl-")
    assert result["model"] == MODEL
    choice = result["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].strip()
    assert choice["finish_reason"] in ("stop", "length")

    # The prompt count is the chat template's rendering, tokenized by the model itself.
    vocab = Llama(model_path=str(default_model_path()), vocab_only=True, verbose=False)
    prompt = (
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
        "Face<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    usage = result["usage"]
    assert usage["prompt_tokens"] == len(
        vocab.tokenize(prompt.encode(), add_bos=False, special=True)
    )
    assert 1 <= usage["completion_tokens"] <= 32
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_stream_chunks_then_usage_chunk(provider: LocalProvider) -> None:
    chunks = await stream(
        provider,
        chat(
            "Write one sentence about the sea.",
            max_completion_tokens=24,
            stream=True,
            stream_options={"include_usage": True},
        ),
    )
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert chunks[0]["id"].startswith("chatcmpl-")
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    for chunk in chunks[:-1]:
        (choice,) = chunk["choices"]
        assert choice["index"] == 0 and choice["logprobs"] is None
        assert chunk["usage"] is None
    assert chunks[-2]["choices"][0]["finish_reason"] in ("stop", "length")
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in chunks[:-2])
    assert streamed_text(chunks).strip()

    last = chunks[-1]
    assert last["choices"] == []
    usage = last["usage"]
    assert usage["prompt_tokens"] > 0
    assert 1 <= usage["completion_tokens"] <= 24
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_no_usage_chunk_unless_asked(provider: LocalProvider) -> None:
    chunks = await stream(provider, chat("Hi!", max_completion_tokens=8, stream=True))
    assert chunks[-1]["choices"][0]["finish_reason"] is not None
    assert all("usage" not in chunk for chunk in chunks)


@pytest.mark.parametrize("streamed", [False, True])
async def test_max_tokens_ends_with_length(provider: LocalProvider, streamed: bool) -> None:
    body = chat(
        "Write a long story about a dragon who learns to bake bread.",
        max_completion_tokens=6,
        stream_options={"include_usage": True},
    )
    if streamed:
        chunks = await stream(provider, body)
        finish, usage = chunks[-2]["choices"][0]["finish_reason"], chunks[-1]["usage"]
    else:
        result = await provider.chat_completion(body)
        finish, usage = result["choices"][0]["finish_reason"], result["usage"]
    assert finish == "length"
    assert usage["completion_tokens"] == 6


async def test_legacy_max_tokens(provider: LocalProvider) -> None:
    result = await provider.chat_completion(chat("Tell me a long story.", max_tokens=4))
    assert result["usage"]["completion_tokens"] == 4
    assert result["choices"][0]["finish_reason"] == "length"


async def test_stop_sequence_cuts_the_answer(provider: LocalProvider) -> None:
    result = await provider.chat_completion(
        chat("Write a sentence about cats.", stop=[" "], max_completion_tokens=40)
    )
    content = result["choices"][0]["message"]["content"]
    assert " " not in content
    assert result["choices"][0]["finish_reason"] == "stop"


async def test_seeded_sampling_repeats(provider: LocalProvider) -> None:
    body = chat("Name a color.", temperature=1.0, seed=7, max_completion_tokens=12)
    first = await provider.chat_completion(body)
    second = await provider.chat_completion(body)
    assert first["choices"][0]["message"] == second["choices"][0]["message"]


PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 24},
        "age": {"type": "integer", "minimum": 0, "maximum": 130},
        "role": {"type": "string", "enum": ["pilot", "chef", "doctor"]},
        "retired": {"type": "boolean"},
    },
    "required": ["name", "age", "role", "retired"],
    "additionalProperties": False,
}


@pytest.mark.parametrize("streamed", [False, True])
async def test_json_schema_answer_validates(provider: LocalProvider, streamed: bool) -> None:
    body = chat(
        "Invent a person who works as a chef.",
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": PERSON},
        },
        temperature=0.7,
        max_completion_tokens=200,
    )
    if streamed:
        text = streamed_text(await stream(provider, body))
    else:
        text = (await provider.chat_completion(body))["choices"][0]["message"]["content"]
    jsonschema.validate(json.loads(text), PERSON)


async def test_json_object_answer_parses(provider: LocalProvider) -> None:
    result = await provider.chat_completion(
        chat(
            "Describe a cat as JSON with the keys name and color.",
            response_format={"type": "json_object"},
            temperature=0,
            max_completion_tokens=120,
        )
    )
    assert isinstance(json.loads(result["choices"][0]["message"]["content"]), dict)


async def test_required_tool_call(provider: LocalProvider) -> None:
    result = await provider.chat_completion(
        chat("What is the weather in Paris?", tools=TOOLS, tool_choice="required", temperature=0)
    )
    choice = result["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert call["id"].startswith("call_") and call["type"] == "function"
    assert call["function"]["name"] in ("get_weather", "get_time")
    json.loads(call["function"]["arguments"])


async def test_named_tool_call_streams_in_chunks(provider: LocalProvider) -> None:
    chunks = await stream(
        provider,
        chat(
            "What is the weather in Oslo?",
            tools=TOOLS,
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            stream_options={"include_usage": True},
        ),
    )
    calls = [
        call
        for chunk in chunks
        if chunk["choices"]
        for call in chunk["choices"][0]["delta"].get("tool_calls") or ()
    ]
    (call,) = calls
    assert call["index"] == 0 and call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    jsonschema.validate(json.loads(call["function"]["arguments"]), WEATHER_PARAMS)
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["completion_tokens"] > 0


async def test_tool_results_continue_the_conversation(provider: LocalProvider) -> None:
    call = {
        "id": "call_abc",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    body = {
        "model": MODEL,
        "messages": [
            {"role": "user", "content": "What is the weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_abc", "content": "Sunny, 24 C"},
        ],
        "tools": TOOLS,
        "tool_choice": "none",
        "max_completion_tokens": 30,
    }
    result = await provider.chat_completion(body)
    assert result["choices"][0]["message"]["content"].strip()
    assert "tool_calls" not in result["choices"][0]["message"]


async def test_auto_tool_choice_switches_to_the_call_grammar(provider: LocalProvider) -> None:
    # Few-shot history makes even a 135M model open its answer with the marker; what
    # follows must then be a well-formed call, not free text.
    def example(call_id: str, city: str) -> dict[str, Any]:
        arguments = json.dumps({"city": city})
        return {
            "id": call_id,
            "type": "function",
            "function": {"name": "get_weather", "arguments": arguments},
        }

    body = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "Answer every question by calling a function."},
            {"role": "user", "content": "Weather in Rome?"},
            {"role": "assistant", "content": None, "tool_calls": [example("call_1", "Rome")]},
            {"role": "user", "content": "Weather in Oslo?"},
            {"role": "assistant", "content": None, "tool_calls": [example("call_2", "Oslo")]},
            {"role": "user", "content": "Weather in Madrid?"},
        ],
        "tools": TOOLS,
        "temperature": 0,
        "max_completion_tokens": 60,
    }
    result = await provider.chat_completion(body)
    choice = result["choices"][0]
    assert choice["finish_reason"] == "tool_calls", choice
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    jsonschema.validate(json.loads(call["function"]["arguments"]), WEATHER_PARAMS)


async def test_auto_tool_choice_can_answer_in_text(provider: LocalProvider) -> None:
    result = await provider.chat_completion(
        chat(
            "Write a short poem about spring.",
            tools=TOOLS,
            temperature=0,
            max_completion_tokens=30,
        )
    )
    choice = result["choices"][0]
    assert choice["message"]["content"].strip()
    assert "<tool_call>" not in choice["message"]["content"]


async def test_unknown_model_and_embedding_model_are_refused(provider: LocalProvider) -> None:
    with pytest.raises(NotFound):
        await provider.chat_completion({**chat("hi"), "model": "gpt-4o"})
    with pytest.raises(InvalidRequest):
        await provider.chat_completion({**chat("hi"), "model": "multilingual-e5-small"})


async def test_prompt_longer_than_context_is_a_400(make_provider: Any) -> None:
    small = make_provider(context_size=64)
    with pytest.raises(InvalidRequest) as caught:
        await provider_first_chunk(small, chat("word " * 100, stream=True))
    assert caught.value.code == "context_length_exceeded"
    # The refusal left the model free for the next request.
    result = await small.chat_completion(chat("Hi", max_completion_tokens=4))
    assert result["usage"]["completion_tokens"] >= 1


async def provider_first_chunk(provider: LocalProvider, body: dict[str, Any]) -> dict[str, Any]:
    chunks = provider.stream_chat_completion(body)
    try:
        return await anext(chunks)
    finally:
        await chunks.aclose()
