"""Compaction on a Responses WebSocket: a compaction starts a new chain.

A turn compacted by ``context_management`` is continued on the socket from its
compaction on, and a ``/v1/responses/compact`` output sent as a socket turn's input
(no ``previous_response_id``) starts a fresh chain there; either way the items the
summary replaced are never sent upstream again.
"""

from __future__ import annotations

from typing import Any

import httpx

from relaystack.ids import IdSource
from relaystack.items.compaction import new_compaction
from relaystack.responses.compaction import seal, since_latest_compaction
from relaystack.sealing import Sealer
from tests.context.conftest import is_summary_call, summarising
from tests.support.mock_upstream import MockUpstream
from tests.support.sockets import responses_socket, turn
from tests.support.spec import assert_valid, check_stream_contract

MODEL = "openai/mock-model"
COMPACTION = [{"type": "compaction", "compact_threshold": 60}]
OLD = "hello " * 40  # over the threshold: the next turn compacts it away


def _contents(body: dict[str, Any]) -> list[str]:
    return [str(message["content"]) for message in body["messages"]]


def _completed(events: list[dict[str, Any]]) -> dict[str, Any]:
    check_stream_contract(events)
    assert events[-1]["type"] == "response.completed", events[-1]
    response: dict[str, Any] = events[-1]["response"]
    return response


def test_a_compacted_turn_starts_the_socket_s_next_chain(
    small_server: str, upstream: MockUpstream
) -> None:
    summarising(upstream, "Earlier: greetings.")
    with responses_socket(small_server) as socket:
        first = _completed(turn(socket, model=MODEL, input=OLD, store=False))
        second = _completed(
            turn(
                socket,
                model=MODEL,
                input="And now?",
                store=False,
                previous_response_id=first["id"],
                context_management=COMPACTION,
            )
        )
        assert [item["type"] for item in second["output"]] == ["compaction", "message"]
        calls = len(upstream.requests)
        third = _completed(
            turn(
                socket,
                model=MODEL,
                input="Once more",
                store=False,
                previous_response_id=second["id"],
            )
        )
        fourth = _completed(
            turn(socket, model=MODEL, input="Last", store=False, previous_response_id=third["id"])
        )
    summary_call, compacted_call, third_call, fourth_call = upstream.requests[-4:]
    assert is_summary_call(summary_call) and OLD.strip() in summary_call["messages"][-1]["content"]
    assert _contents(compacted_call) == [
        "Summary of the earlier conversation:\nEarlier: greetings.",
        "And now?",
    ]
    answer = second["output"][1]["content"][0]["text"]
    # One call per later turn, none a summary; the summarised turn is never sent again.
    assert len(upstream.requests) == calls + 2
    assert _contents(third_call) == [_contents(compacted_call)[0], "And now?", answer, "Once more"]
    third_answer = third["output"][0]["content"][0]["text"]
    assert _contents(fourth_call) == [*_contents(third_call), third_answer, "Last"]
    for body in (third_call, fourth_call):
        assert not any(OLD.strip() in content for content in _contents(body))
    assert fourth["status"] == "completed"


def test_a_compact_output_sent_as_input_starts_a_fresh_chain(
    small_server: str, upstream: MockUpstream
) -> None:
    summarising(upstream, "Ada works on Lighthouse.")
    conversation = [
        {"role": "user", "content": "My name is Ada; my project is Lighthouse."},
        {"role": "assistant", "content": "Nice to meet you, Ada."},
        {"role": "user", "content": "What should the next release be called?"},
    ]
    with responses_socket(small_server) as socket:
        # The socket already remembers an unrelated response.
        _completed(turn(socket, model=MODEL, input=OLD, store=False))
        compacted = httpx.post(
            f"{small_server}/responses/compact",
            json={"model": MODEL, "input": conversation},
            timeout=30,
        ).json()
        assert_valid("CompactResource", compacted)
        fresh = _completed(
            turn(
                socket,
                model=MODEL,
                input=[*compacted["output"], {"role": "user", "content": "And after?"}],
                store=False,
            )
        )
        _completed(
            turn(
                socket,
                model=MODEL,
                input="Thanks",
                store=False,
                previous_response_id=fresh["id"],
            )
        )
    fresh_call, next_call = upstream.requests[-2:]
    summary = "Summary of the earlier conversation:\nAda works on Lighthouse."
    assert _contents(fresh_call) == [summary, conversation[2]["content"], "And after?"]
    answer = fresh["output"][0]["content"][0]["text"]
    assert _contents(next_call) == [*_contents(fresh_call), answer, "Thanks"]
    for body in (fresh_call, next_call):
        sent = " ".join(_contents(body))
        assert "Nice to meet you" not in sent and OLD.strip() not in sent


def test_what_a_socket_keeps_starts_at_the_latest_compaction_s_kept_items() -> None:
    sealer, ids = Sealer.random(), IdSource()
    items: list[dict[str, Any]] = [
        {"type": "message", "role": "user", "content": text} for text in ("a", "b", "c")
    ]
    first = dict(new_compaction(seal(sealer, "alice", "a", 0), ids))
    latest = dict(new_compaction(seal(sealer, "alice", "a, b, c", 1), ids))
    after = {"type": "message", "role": "assistant", "content": "d"}
    chain = [items[0], first, *items[1:], latest, after]
    assert since_latest_compaction(chain, sealer, "alice") == [items[2], latest, after]
    assert since_latest_compaction(items, sealer, "alice") == items
