"""Exact errors: OpenAI's codes for an upstream's refusals, one ``response.failed`` for a
stream that fails, ids of the wrong kind, unknown ids and models that say how to list
the existing ones. Over HTTP with the openai SDK and raw httpx, against a mock upstream.
"""

from __future__ import annotations

from typing import Any, get_args

import httpx
import openai
import pytest
from openai.types.responses import ResponseError

from relaystack.responses.failure import RESPONSE_ERROR_CODES
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.not_found import CONV_HINT, MODEL_HINT, RESP_HINT
from tests.support.spec import check_stream_contract
from tests.support.sse import stream_events

MODEL = "openai/gpt-4o"

# What servers answer for each failure: (status, error body, OpenAI's code, param).
REFUSALS: dict[str, tuple[int, Any, str, str | None]] = {
    "vllm context window": (
        400,
        {
            "object": "error",
            "message": "This model's maximum context length is 4096 tokens. However, you "
            "requested 9000 tokens in the messages.",
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        },
        "context_length_exceeded",
        "input",
    ),
    "llama.cpp context size": (
        400,
        {
            "error": {
                "code": 400,
                "message": "the request exceeds the available context size, try increasing it",
                "type": "exceed_context_size_error",
            }
        },
        "context_length_exceeded",
        "input",
    ),
    "openai context code": (
        400,
        {"error": {"message": "Too long.", "code": "context_length_exceeded", "param": "messages"}},
        "context_length_exceeded",
        "input",
    ),
    "invalid base64 image": (
        400,
        {"error": {"message": "Invalid base64 image data in image_url.", "code": None}},
        "invalid_base64_image",
        "input",
    ),
    "unreachable image url": (
        400,
        {"error": {"message": "Failed to download image from http://x.invalid/a.png"}},
        "invalid_image_url",
        "input",
    ),
    "rate limited": (429, {"error": {"message": "slow down"}}, "rate_limit_exceeded", None),
}

FAILED_CODES = set(get_args(ResponseError.model_fields["code"].annotation))


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_upstream_refusal_gets_openai_s_code_over_json(
    client: openai.OpenAI, upstream: MockUpstream, case: str
) -> None:
    status, body, code, param = REFUSALS[case]
    upstream.queue(Reply(status=status, error_body=body))
    with pytest.raises(openai.APIStatusError) as caught:
        client.responses.create(model=MODEL, input="x")
    assert caught.value.status_code == status
    error = caught.value.body
    assert isinstance(error, dict)
    assert (error["code"], error["param"], error["type"]) == (code, param, "invalid_request_error")


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_a_stream_refused_upstream_is_one_response_failed_after_created(
    server: str, upstream: MockUpstream, case: str
) -> None:
    status, body, code, _param = REFUSALS[case]
    upstream.queue(Reply(status=status, error_body=body))
    events = stream_events(server, {"model": MODEL, "input": "x"})
    check_stream_contract(events)
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.failed",
    ]
    assert events[-1]["response"]["error"]["code"] == code
    stored = httpx.get(f"{server}/responses/{events[-1]['response']['id']}").json()
    assert stored["status"] == "failed" and stored["error"]["code"] == code


def test_an_upstream_s_own_code_is_never_passed_through(
    client: openai.OpenAI, server: str, upstream: MockUpstream
) -> None:
    refusal = {"error": {"message": "nope", "code": "acme_quota_42", "param": "messages"}}
    upstream.queue(Reply(status=400, error_body=refusal), Reply(status=400, error_body=refusal))
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="x")
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "upstream_refused"
    assert caught.value.body["param"] is None  # "messages" names the upstream's body, not ours
    events = stream_events(server, {"model": MODEL, "input": "x"})
    assert events[-1]["response"]["error"]["code"] == "invalid_prompt"
    assert "nope" in events[-1]["response"]["error"]["message"]


def test_an_error_chunk_mid_stream_is_mapped_too(server: str, upstream: MockUpstream) -> None:
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o"}
    opening = {**chunk, "choices": [{"index": 0, "delta": {"content": "par"}}]}
    error = {"error": {"message": "prompt is too long: 9000 tokens > 4096 maximum"}}
    upstream.queue(Reply(chunks=[opening, error]))
    events = stream_events(server, {"model": MODEL, "input": "x"})
    check_stream_contract(events)
    assert [e["type"] for e in events].count("response.failed") == 1
    assert events[-1]["response"]["error"]["code"] == "context_length_exceeded"


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=500, error_body={"error": {"message": "melted", "code": "engine_melt"}}),
        Reply(content=["a", "b", "c"], break_after=2),
        Reply(status=418, error_body="teapot"),
    ],
    ids=["5xx", "broken stream", "unknown 4xx"],
)
def test_every_failed_response_code_is_one_openai_knows(
    server: str, upstream: MockUpstream, reply: Reply
) -> None:
    upstream.queue(reply)
    events = stream_events(server, {"model": MODEL, "input": "x"})
    assert events[-1]["type"] == "response.failed"
    code = events[-1]["response"]["error"]["code"]
    assert code in RESPONSE_ERROR_CODES
    # The SDK's enum, plus the one code OpenAI sends beyond it (context_length_exceeded).
    assert code in FAILED_CODES | {"context_length_exceeded"}


def test_relaystack_s_failure_codes_are_the_sdk_s() -> None:
    assert RESPONSE_ERROR_CODES - {"context_length_exceeded"} <= FAILED_CODES


# ----- ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"previous_response_id": "abc"}, "previous_response_id"),
        ({"previous_response_id": "msg_123"}, "previous_response_id"),
        ({"conversation": "abc"}, "conversation"),
        ({"conversation": {"id": "resp_123"}}, "conversation.id"),
    ],
)
def test_an_id_of_the_wrong_kind_is_400_naming_the_parameter(
    client: openai.OpenAI, upstream: MockUpstream, body: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="x", **body)
    error = caught.value.body
    assert isinstance(error, dict)
    assert (error["type"], error["param"], error["code"]) == (
        "invalid_request_error",
        param,
        "invalid_value",
    )
    assert "Expected an ID that begins with" in error["message"]
    assert upstream.requests == []


@pytest.mark.parametrize(
    ("method", "path", "param"),
    [
        ("GET", "/responses/abc", "response_id"),
        ("DELETE", "/responses/abc", "response_id"),
        ("GET", "/responses/abc/input_items", "response_id"),
        ("GET", "/conversations/abc", "conversation_id"),
        ("GET", "/conversations/resp_1/items", "conversation_id"),
    ],
)
def test_a_path_id_of_the_wrong_kind_is_400(
    server: str, method: str, path: str, param: str
) -> None:
    reply = httpx.request(method, server + path)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert (error["type"], error["param"], error["code"]) == (
        "invalid_request_error",
        param,
        "invalid_value",
    )


def test_unknown_ids_are_404_saying_how_to_list_them(client: openai.OpenAI) -> None:
    missing = "resp_" + "9" * 48
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.retrieve(missing)
    assert caught.value.body == {
        "message": f"Response with id '{missing}' not found." + RESP_HINT,
        "type": "invalid_request_error",
        "param": "response_id",
        "code": None,
    }
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model=MODEL, input="x", previous_response_id=missing)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "previous_response_not_found"
    assert caught.value.body["message"] == (
        f"Previous response with id '{missing}' not found." + RESP_HINT
    )
    with pytest.raises(openai.NotFoundError) as caught:
        client.conversations.retrieve("conv_missing")
    assert isinstance(caught.value.body, dict)
    assert (
        caught.value.body["message"] == "Conversation with id 'conv_missing' not found." + CONV_HINT
    )


def test_an_unknown_model_is_404_naming_it_and_how_to_list_models(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model="openai/gpt-9", input="x")
    assert caught.value.body == {
        "message": "The model 'openai/gpt-9' does not exist or you do not have access to it."
        + MODEL_HINT,
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
