"""The embedded model's conversations outlive its 2048-token window: its answers are
capped by default, the oldest items give way, and its own tokenizer counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from relaystack.app import build_app
from relaystack.config import parse_config
from relaystack.testing.server import ServerThread

CHAT_MODEL = "local/smollm2-135m-instruct"
SMALL_WINDOW = 512


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    database = tmp_path_factory.mktemp("local") / "state.db"
    config = parse_config(
        {"providers": [{"type": "local"}], "storage": {"url": f"sqlite:///{database}"}}
    )
    with ServerThread(build_app(config)) as thread:
        yield openai.OpenAI(base_url=f"{thread.url}/v1", api_key="x", max_retries=0)


@pytest.fixture(scope="module")
def small_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    """A 512-token window: the same truncation, a quarter of the prompt to evaluate."""
    database = tmp_path_factory.mktemp("small") / "state.db"
    config = parse_config(
        {
            "providers": [{"type": "local", "context_size": SMALL_WINDOW}],
            "storage": {"url": f"sqlite:///{database}"},
        }
    )
    with ServerThread(build_app(config)) as thread:
        yield openai.OpenAI(base_url=f"{thread.url}/v1", api_key="x", max_retries=0)


def test_a_conversation_of_two_short_user_turns_works(local: openai.OpenAI) -> None:
    conversation = local.conversations.create()
    for question in ("Tell me about the sea.", "And about mountains?"):
        response = local.responses.create(
            model=CHAT_MODEL, conversation=conversation.id, input=question
        )
        assert response.status in ("completed", "incomplete"), response.error
        assert response.output_text
        # The model's defaults, echoed: a cap well inside the window, and auto truncation.
        assert response.max_output_tokens == 512
        assert response.truncation == "auto"
        assert response.usage is not None and response.usage.output_tokens <= 512


def test_input_tokens_are_the_models_own_count(local: openai.OpenAI) -> None:
    request = {"model": CHAT_MODEL, "input": "Name three colours.", "instructions": "Be terse."}
    counted = local.responses.input_tokens.count(**request)  # type: ignore[arg-type]
    response = local.responses.create(**request, max_output_tokens=16)  # type: ignore[call-overload]
    assert counted.input_tokens == response.usage.input_tokens


def test_a_long_chain_keeps_answering(small_local: openai.OpenAI) -> None:
    filler = "The quick brown fox jumps over the lazy dog. " * 15  # ~150 tokens a turn
    previous = None
    for turn in range(4):  # the fourth turn's context is past the window
        response = small_local.responses.create(
            model=CHAT_MODEL,
            input=f"Turn {turn}. {filler} Say OK.",
            previous_response_id=previous,
            max_output_tokens=16,
        )
        assert response.status in ("completed", "incomplete"), response.error
        previous = response.id
    assert response.usage is not None and response.usage.input_tokens <= SMALL_WINDOW - 16


def test_an_explicit_request_value_wins(local: openai.OpenAI, tmp_path: Path) -> None:
    long_text = "The quick brown fox jumps over the lazy dog. " * 250  # past 2048 tokens
    with pytest.raises(openai.BadRequestError) as caught:
        local.responses.create(model=CHAT_MODEL, input=long_text, truncation="disabled")
    assert caught.value.body["code"] == "context_length_exceeded"  # type: ignore[index]
    response = local.responses.create(model=CHAT_MODEL, input="Hi", max_output_tokens=20)
    assert response.max_output_tokens == 20
    assert response.usage is not None and response.usage.output_tokens <= 20
