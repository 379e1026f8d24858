"""``POST /v1/responses/compact`` and ``context_management``: one model call summarises
the conversation into a sealed ``compaction`` item, which later turns read as the summary."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from relaystack.app import build_app
from relaystack.config import parse_config
from relaystack.sealing import Sealer
from relaystack.wire.json import loads
from relaystack.wire.sse import payloads
from tests.context.conftest import is_summary_call, small_window_settings, summarising
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread
from tests.support.spec import assert_valid, assert_valid_event, assert_valid_response

MODEL = "openai/mock-model"

CONVERSATION: list[dict[str, Any]] = [
    {"role": "user", "content": "My name is Ada and my project is called Lighthouse."},
    {"role": "assistant", "content": "Nice to meet you, Ada. Tell me about Lighthouse."},
    {"role": "user", "content": "It monitors ships. What should I call the next release?"},
]


def _compact(client: openai.OpenAI, **body: Any) -> dict[str, Any]:
    raw = client.responses.with_raw_response.compact(**body)
    data: dict[str, Any] = raw.http_response.json()
    assert_valid("CompactResource", data)
    return data


def test_compact_keeps_the_latest_user_turn_and_adds_a_sealed_summary(
    small: openai.OpenAI, upstream: MockUpstream
) -> None:
    summarising(upstream, "Ada works on Lighthouse, a ship monitor.")
    data = _compact(small, model=MODEL, input=CONVERSATION)
    assert data["object"] == "response.compaction"
    kept, compaction = data["output"][:-1], data["output"][-1]
    assert [item["content"][0]["text"] for item in kept] == [CONVERSATION[2]["content"]]
    assert compaction["type"] == "compaction"
    assert compaction["id"].startswith("cmp_")
    assert "Lighthouse" not in compaction["encrypted_content"], "the summary is sealed"
    (call,) = upstream.requests
    assert is_summary_call(call)
    transcript = call["messages"][-1]["content"]
    assert "Ada" in transcript and "Nice to meet you" in transcript
    assert data["usage"]["input_tokens"] == 11  # the mock's prompt tokens

    # Sent back with the next question, the summary stands for what it summarised.
    later = [*data["output"], {"role": "user", "content": "And the one after?"}]
    small.responses.create(model=MODEL, input=later)  # type: ignore[arg-type]
    sent = upstream.requests[-1]["messages"]
    assert sent[0]["role"] == "system"
    assert sent[0]["content"].endswith("Ada works on Lighthouse, a ship monitor.")
    assert [m["content"] for m in sent[1:]] == [CONVERSATION[2]["content"], "And the one after?"]
    assert not any("Nice to meet you" in str(m["content"]) for m in sent)


def test_compact_after_a_chain(small: openai.OpenAI, upstream: MockUpstream) -> None:
    first = small.responses.create(model=MODEL, input="Remember the number 7.")
    summarising(upstream, "The number is 7.")
    data = _compact(small, model=MODEL, previous_response_id=first.id, input="What is it?")
    assert data["output"][0]["content"][0]["text"] == "What is it?"
    answer = small.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        input=data["output"],  # type: ignore[arg-type]
    )
    assert answer.status == "completed"
    sent = upstream.requests[-1]["messages"]
    assert sent[0]["content"].endswith("The number is 7.")
    assert "Remember the number 7." not in [m["content"] for m in sent]


def test_compact_needs_a_model_and_something_to_compact(small_server: str) -> None:
    missing = httpx.post(f"{small_server}/responses/compact", json={"input": "hi"})
    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "model"
    empty = httpx.post(f"{small_server}/responses/compact", json={"model": MODEL})
    assert empty.status_code == 400
    assert empty.json()["error"]["param"] == "input"


@pytest.mark.parametrize("tamper", ["flip", "foreign", "garbage"])
def test_a_tampered_or_foreign_blob_is_a_400_naming_the_item(
    small: openai.OpenAI, upstream: MockUpstream, tamper: str
) -> None:
    summarising(upstream)
    blob = _compact(small, model=MODEL, input="Hello")["output"][-1]["encrypted_content"]
    if tamper == "flip":
        blob = blob[:-5] + ("A" if blob[-5] != "A" else "B") + blob[-4:]
    elif tamper == "foreign":
        blob = Sealer.from_secret("another server").seal("compaction", b'{"summary": "x"}')
    else:
        blob = "not a blob"
    calls = len(upstream.requests)
    with pytest.raises(openai.BadRequestError) as caught:
        small.responses.create(
            model=MODEL,
            input=[
                {"role": "user", "content": "one"},
                {"role": "assistant", "content": "two"},
                {"role": "user", "content": "three"},
                {"type": "compaction", "encrypted_content": blob},
            ],
        )
    assert caught.value.body["param"] == "input[3].encrypted_content"  # type: ignore[index]
    assert "input[3]" in caught.value.body["message"]  # type: ignore[index]
    assert len(upstream.requests) == calls


def test_another_replica_sharing_the_key_opens_the_blob(
    small: openai.OpenAI, upstream: MockUpstream, tmp_path: Any
) -> None:
    summarising(upstream, "Shared summary.")
    output = _compact(small, model=MODEL, input="Hello")["output"]
    settings = small_window_settings(
        upstream.base_url,
        f"sqlite:///{tmp_path / 'other.db'}",
        server={"sealing_key": "shared secret"},
    )
    with ServerThread(build_app(parse_config(settings))) as thread:
        other = openai.OpenAI(base_url=f"{thread.url}/v1", api_key="x", max_retries=0)
        other.responses.create(model=MODEL, input=[*output, {"role": "user", "content": "Go"}])
    assert upstream.requests[-1]["messages"][0]["content"].endswith("Shared summary.")


def test_context_management_compacts_first_and_emits_the_item(
    small: openai.OpenAI, upstream: MockUpstream
) -> None:
    summarising(upstream, "Earlier: greetings.")
    first = small.responses.create(model=MODEL, input="hello " * 40)
    request = {
        "model": MODEL,
        "input": "And now?",
        "previous_response_id": first.id,
        "context_management": [{"type": "compaction", "compact_threshold": 60}],
        "stream": True,
    }
    with httpx.Client(timeout=30) as http:
        answer = http.post(f"{small._client.base_url}responses", json=request)
    events = [loads(payload) for payload in payloads(answer.content)]
    for event in events:
        assert_valid_event(event)
    final = events[-1]["response"]
    assert_valid_response(final)
    assert final["status"] == "completed"
    assert [item["type"] for item in final["output"]] == ["compaction", "message"]
    added = [e["item"]["type"] for e in events if e["type"] == "response.output_item.added"]
    assert added == ["compaction", "message"]
    summary_call, turn_call = upstream.requests[-2:]
    assert is_summary_call(summary_call)
    assert [m["content"] for m in turn_call["messages"]] == [
        "Summary of the earlier conversation:\nEarlier: greetings.",
        "And now?",
    ]
    assert final["usage"]["input_tokens"] == 22  # both calls count

    # The next turn in the chain reads the summary, not the turns it replaced.
    small.responses.create(model=MODEL, input="Once more", previous_response_id=final["id"])
    contents = [m["content"] for m in upstream.requests[-1]["messages"]]
    assert contents[0].endswith("Earlier: greetings.")
    assert contents[1:] == ["And now?", final["output"][1]["content"][0]["text"], "Once more"]


def test_below_the_threshold_nothing_changes(small: openai.OpenAI, upstream: MockUpstream) -> None:
    summarising(upstream)
    response = small.responses.create(
        model=MODEL,
        input="short",
        context_management=[{"type": "compaction", "compact_threshold": 300}],
    )
    assert [item.type for item in response.output] == ["message"]
    assert len(upstream.requests) == 1 and not is_summary_call(upstream.requests[0])


def test_an_empty_summary_is_a_502_not_a_compaction_that_forgets_everything(
    small: openai.OpenAI, upstream: MockUpstream
) -> None:
    summarising(upstream, "   ")
    with pytest.raises(openai.APIStatusError) as caught:
        small.responses.compact(model=MODEL, input=CONVERSATION)  # type: ignore[arg-type]
    assert caught.value.status_code == 502
    assert caught.value.body["type"] == "server_error"  # type: ignore[index]
