"""Log probabilities: ``top_logprobs`` and ``include: ["message.output_text.logprobs"]``
reach a chat upstream as ``logprobs`` / ``top_logprobs``; what it returns lands on the
``output_text`` part and the ``response.output_text.delta`` events, and survives the
store. An upstream that returns none leaves the lists empty."""

from __future__ import annotations

import math
from typing import Any

import openai
import pytest

from tests.support import spec
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.sse import stream_events

MODEL = "openai/gpt-4o"
INCLUDE = ["message.output_text.logprobs"]


def entry(token: str, logprob: float, *alternatives: tuple[str, float]) -> dict[str, Any]:
    return {
        "token": token,
        "logprob": logprob,
        "bytes": list(token.encode()),
        "top_logprobs": [
            {"token": t, "logprob": p, "bytes": list(t.encode())} for t, p in alternatives
        ],
    }


ENTRIES = [
    entry("Hello", -0.25, ("Hello", -0.25), ("Hi", -1.5)),
    entry(" wörld", -0.5, (" wörld", -0.5), (" there", -2.0)),
]


def scored_reply() -> Reply:
    return Reply(content=["Hello", " wörld"], logprobs=ENTRIES)


def test_top_logprobs_and_include_reach_the_upstream(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(scored_reply())
    response = client.responses.create(model=MODEL, input="hi", top_logprobs=2, include=INCLUDE)
    body = upstream.requests[-1]
    assert body["logprobs"] is True and body["top_logprobs"] == 2
    assert response.top_logprobs == 2
    part = response.output[0].content[0]  # type: ignore[union-attr]
    assert [lp.model_dump() for lp in part.logprobs] == ENTRIES  # type: ignore[union-attr]


@pytest.mark.parametrize("extra", [{}, {"top_logprobs": 5}])
def test_without_the_include_nothing_is_requested(
    client: openai.OpenAI, upstream: MockUpstream, extra: dict[str, Any]
) -> None:
    # As with OpenAI, top_logprobs alone leaves output_text's logprobs empty; what an
    # upstream sends unasked is dropped.
    upstream.queue(scored_reply())
    response = client.responses.create(model=MODEL, input="hi", **extra)
    assert "logprobs" not in upstream.requests[-1]
    assert "top_logprobs" not in upstream.requests[-1]
    assert response.output[0].content[0].logprobs == []  # type: ignore[union-attr]


def test_deltas_carry_their_tokens_and_the_store_keeps_the_part(
    server: str, client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(scored_reply())
    events = stream_events(server, {"model": MODEL, "input": "hi", "include": INCLUDE})
    spec.check_stream_contract(events)
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    assert [d["logprobs"] for d in deltas] == [[ENTRIES[0]], [ENTRIES[1]]]
    (done,) = [e for e in events if e["type"] == "response.output_text.done"]
    assert done["logprobs"] == ENTRIES
    final = events[-1]["response"]
    assert final["output"][0]["content"][0]["logprobs"] == ENTRIES
    stored = client.responses.retrieve(final["id"]).model_dump()
    assert stored["output"][0]["content"][0]["logprobs"] == ENTRIES
    assert math.isclose(sum(e["logprob"] for e in ENTRIES), -0.75)


def test_an_upstream_without_logprobs_leaves_the_lists_empty(
    server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["no", " scores"]))
    events = stream_events(
        server, {"model": MODEL, "input": "hi", "include": INCLUDE, "top_logprobs": 3}
    )
    spec.check_stream_contract(events)
    assert upstream.requests[-1]["logprobs"] is True
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    assert deltas and all(d["logprobs"] == [] for d in deltas)
    assert events[-1]["response"]["output"][0]["content"][0]["logprobs"] == []


@pytest.mark.parametrize("value", [-1, 21])
def test_top_logprobs_out_of_range_is_a_400(client: openai.OpenAI, value: int) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="hi", top_logprobs=value)
    assert caught.value.body["param"] == "top_logprobs"  # type: ignore[index]
