"""The seed conversation: relaystack must send exactly the recorded upstream bodies."""

from __future__ import annotations

import openai

from tests.support.mock_upstream import MockUpstream, replay_of


def test_saturn_conversation_matches_the_recorded_upstream_bodies(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(replay_of("d058ce92"), replay_of("cd222f01"))

    first = client.responses.create(
        model="openai/gpt-4o",
        input="Which planet has rings around it with a name starting with letter S?",
    )
    assert first.status == "completed"
    assert "Saturn" in first.output_text

    retrieved = client.responses.retrieve(first.id)
    assert retrieved.id == first.id
    assert retrieved.output_text == first.output_text

    second = client.responses.create(
        model="openai/gpt-4o",
        input="Repeat your previous response in all caps.",
        previous_response_id=first.id,
    )
    assert second.status == "completed", second.error
    assert "SATURN" in second.output_text
    assert second.usage is not None
    assert (second.usage.input_tokens, second.usage.output_tokens) == (66, 41)
    assert second.usage.total_tokens == 107
    # The mock answers 418 on any difference, so reaching here means both bodies matched;
    # say it outright too.
    assert len(upstream.requests) == 2
