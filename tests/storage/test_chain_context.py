"""Long chains: the context sent upstream is every earlier turn, in order, every time."""

from __future__ import annotations

import openai

from tests.support.mock_upstream import MockUpstream


def test_a_long_chain_sends_the_whole_history_and_survives_a_delete(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    previous = None
    for turn in range(12):
        response = client.responses.create(
            model="openai/gpt-4o", input=f"turn {turn}", previous_response_id=previous
        )
        previous = response.id
    expected = []
    for turn in range(12):
        expected += [f"turn {turn}", f"echo: turn {turn}"]
    last_request = upstream.requests[-1]["messages"]
    assert [message["content"] for message in last_request] == expected[:-1]

    client.responses.delete(previous)
    try:
        client.responses.create(model="openai/gpt-4o", input="x", previous_response_id=previous)
    except openai.NotFoundError as error:
        assert error.body["param"] == "previous_response_id"  # type: ignore[index]
    else:
        raise AssertionError("chaining from a deleted response must be a 404")


def test_deleting_a_response_drops_it_and_older_turns_from_later_context(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    first = client.responses.create(model="openai/gpt-4o", input="one")
    second = client.responses.create(
        model="openai/gpt-4o", input="two", previous_response_id=first.id
    )
    third = client.responses.create(
        model="openai/gpt-4o", input="three", previous_response_id=second.id
    )
    client.responses.delete(second.id)
    client.responses.create(model="openai/gpt-4o", input="four", previous_response_id=third.id)
    # As with OpenAI: the chain ends at the deleted link, so "one" and "two" are gone.
    assert [m["content"] for m in upstream.requests[-1]["messages"]] == [
        "three",
        "echo: three",
        "four",
    ]
