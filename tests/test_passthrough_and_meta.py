"""Chat completions pass-through, models, health and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.support.mock_upstream import MockUpstream, Reply, every_attempt
from tests.support.sse import post_stream

MODEL = "openai/gpt-4o"


def http(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=30)


# ----- chat completions ----------------------------------------------------------


def test_chat_completion_passes_the_body_through(server: str, upstream: MockUpstream) -> None:
    upstream.queue(Reply(content=["Pass", "-through"]))
    body = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ],
        "temperature": 0.3,
        "max_tokens": 12,
        "seed": 7,
        "user": "u-1",
    }
    with http(server) as client:
        response = client.post("/chat/completions", json=body)
    assert response.status_code == 200, response.text
    assert upstream.requests[-1] == {**body, "model": "gpt-4o"}
    completion = response.json()
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"]["content"] == "Pass-through"


def test_chat_completion_through_the_sdk(client: openai.OpenAI, upstream: MockUpstream) -> None:
    upstream.queue(Reply(tool_calls=[{"id": "call_c", "name": "lookup", "arguments": '{"q":"x"}'}]))
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Look it up"}],
        tools=[{"type": "function", "function": {"name": "lookup", "parameters": {}}}],
    )
    assert upstream.requests[-1]["model"] == "gpt-4o"
    assert upstream.requests[-1]["tools"][0]["function"]["name"] == "lookup"
    call = completion.choices[0].message.tool_calls[0]
    assert (call.id, call.function.name, call.function.arguments) == (
        "call_c",
        "lookup",
        '{"q":"x"}',
    )
    assert completion.choices[0].finish_reason == "tool_calls"


def test_chat_completion_streams_through_the_sdk(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["Str", "eam", "ed"]))
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Stream it"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Streamed"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens > 0
    sent = upstream.requests[-1]
    assert sent["model"] == "gpt-4o"
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}


def test_chat_completion_raw_stream_ends_with_done(server: str, upstream: MockUpstream) -> None:
    upstream.queue(Reply(content=["a", "b"]))
    response, frames = post_stream(
        server,
        "/chat/completions",
        {"model": MODEL, "messages": [{"role": "user", "content": "raw"}]},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert frames[-1].data == "[DONE]"
    chunks = [frame.data for frame in frames[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert (
        "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
        == "ab"
    )


def test_chat_completion_missing_messages_is_400(server: str, upstream: MockUpstream) -> None:
    with http(server) as client:
        response = client.post("/chat/completions", json={"model": MODEL})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "messages"
    assert upstream.requests == []


def test_chat_completion_stream_refused_upstream_is_an_http_error(
    server: str, upstream: MockUpstream
) -> None:
    upstream.queue(
        *every_attempt(Reply(status=429, error_body={"error": {"message": "slow down"}}))
    )
    response, _ = post_stream(
        server,
        "/chat/completions",
        {"model": MODEL, "messages": [{"role": "user", "content": "too fast"}]},
    )
    assert response.status_code == 429
    assert "slow down" in response.json()["error"]["message"]


# ----- models --------------------------------------------------------------------


def test_models_are_listed_with_their_provider_prefix(client: openai.OpenAI) -> None:
    models = {model.id: model for model in client.models.list()}
    assert {"openai/gpt-4o", "openai/mock-model"} <= set(models)
    assert models["openai/gpt-4o"].object == "model"
    assert models["openai/gpt-4o"].owned_by


def test_model_is_retrieved_by_its_full_id(client: openai.OpenAI, server: str) -> None:
    model = client.models.retrieve("openai/gpt-4o")
    assert model.id == "openai/gpt-4o"
    assert model.object == "model"
    with http(server) as raw:
        body = raw.get("/models/openai/gpt-4o").json()
        missing = raw.get("/models/openai/gpt-5-imaginary")
    assert set(body) >= {"id", "object", "created", "owned_by"}
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "model_not_found"


def test_unknown_model_through_the_sdk_is_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nobody/nothing")


# ----- health and OpenAPI --------------------------------------------------------


def test_health(server: str) -> None:
    with http(server) as client:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "OK"}


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def test_openapi_document_describes_create_response(server: str) -> None:
    with http(server.removesuffix("/v1")) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    post = document["paths"]["/v1/responses"]["post"]
    schema = resolve(document, post["requestBody"]["content"]["application/json"]["schema"])
    properties = schema["properties"]
    for name in ("model", "input", "instructions", "previous_response_id", "tools", "stream"):
        assert name in properties, name
    assert "model" in schema["required"]
    for path in (
        "/v1/responses/{response_id}",
        "/v1/responses/{response_id}/input_items",
        "/v1/chat/completions",
        "/v1/models",
    ):
        assert path in document["paths"], path
