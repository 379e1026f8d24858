"""A compaction item is its owner's: another key's client cannot open it."""

from __future__ import annotations

import openai
import pytest

from tests.context.conftest import summarising
from tests.support.mock_upstream import MockUpstream


def test_another_owners_compaction_is_a_400(
    alice: openai.OpenAI, bob: openai.OpenAI, upstream: MockUpstream
) -> None:
    summarising(upstream, "Alice's secrets.")
    raw = alice.responses.with_raw_response.compact(model="openai/gpt-4o", input="Remember: 1234.")
    follow_up = [*raw.http_response.json()["output"], {"role": "user", "content": "What was it?"}]
    answer = alice.responses.create(model="openai/gpt-4o", input=follow_up)  # type: ignore[arg-type]
    assert answer.status == "completed"
    with pytest.raises(openai.BadRequestError) as caught:
        bob.responses.create(model="openai/gpt-4o", input=follow_up)  # type: ignore[arg-type]
    assert caught.value.body["param"] == "input[1].encrypted_content"  # type: ignore[index]
    assert "another owner" in caught.value.body["message"]  # type: ignore[index]
