"""The embedded model honours a custom tool's grammar: a regex or a Lark grammar is
translated to GBNF, so the forced call's input matches it (checked with Python's ``re``);
a grammar GBNF cannot express is a 400 naming it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from relaystack.app import build_app
from relaystack.config import parse_config
from tests.support import spec
from tests.support.patch_grammar import APPLY_PATCH, PATCH_PATTERN
from tests.support.servers import ServerThread

CHAT_MODEL = "local/smollm2-135m-instruct"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    state: Path = tmp_path_factory.mktemp("local-custom") / "state.db"
    config = parse_config(
        {"providers": [{"type": "local"}], "storage": {"url": f"sqlite:///{state}"}}
    )
    with ServerThread(build_app(config)) as server:
        yield openai.OpenAI(
            base_url=f"{server.url}/v1", api_key="sk-unused", max_retries=0, timeout=300
        )


def test_a_regex_grammar_shapes_the_input(client: openai.OpenAI) -> None:
    tool = {
        "type": "custom",
        "name": "zip_code",
        "description": "Look up a US zip code.",
        "format": {"type": "grammar", "syntax": "regex", "definition": r"9\d{4}(-\d{4})?"},
    }
    response = client.responses.create(
        model=CHAT_MODEL,
        input="What is the zip code of Beverly Hills?",
        tools=[tool],  # type: ignore[list-item]
        tool_choice={"type": "custom", "name": "zip_code"},
        max_output_tokens=32,
        temperature=0,
    )
    data = response.model_dump(exclude_unset=True)
    spec.assert_valid_response(data)
    (call,) = data["output"]
    assert call["type"] == "custom_tool_call" and call["name"] == "zip_code"
    assert re.fullmatch(r"9\d{4}(-\d{4})?", call["input"]), call["input"]


def test_a_lark_grammar_shapes_a_patch_with_newlines(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model=CHAT_MODEL,
        input="Create the file hello.txt with the line: hi",
        tools=[APPLY_PATCH],  # type: ignore[list-item]
        tool_choice={"type": "custom", "name": "apply_patch"},
        max_output_tokens=120,
        temperature=0,
    )
    data = response.model_dump(exclude_unset=True)
    spec.assert_valid_response(data)
    (call,) = data["output"]
    assert call["type"] == "custom_tool_call", data
    assert call["input"].startswith("*** Begin Patch\n")
    assert re.fullmatch(PATCH_PATTERN, call["input"]), call["input"]


@pytest.mark.parametrize(
    ("syntax", "definition", "reason"),
    [
        ("regex", r"(?=a)abc", "look-ahead"),
        ("regex", r"(a)\1", "back-references"),
        ("lark", 'start: WORD\nWORD: /[a-z]+/\n%ignore " "', "%ignore"),
        ("lark", "start: missing_rule", "does not load"),
    ],
)
def test_a_grammar_the_local_model_cannot_follow_is_a_400(
    client: openai.OpenAI, syntax: str, definition: str, reason: str
) -> None:
    tool = {
        "type": "custom",
        "name": "t",
        "format": {"type": "grammar", "syntax": syntax, "definition": definition},
    }
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(
            model=CHAT_MODEL,
            input="x",
            tools=[{"type": "function", "name": "f"}, tool],  # type: ignore[list-item]
            max_output_tokens=16,
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == "tools[1].format.definition", error
    assert "tool 't'" in error["message"] and reason in error["message"], error


def test_a_left_recursive_lark_rule_is_a_400_naming_the_tool(client: openai.OpenAI) -> None:
    tool = {
        "type": "custom",
        "name": "expr",
        "format": {"type": "grammar", "syntax": "lark", "definition": 'start: start "+" | "1"'},
    }
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(
            model=CHAT_MODEL,
            input="x",
            tools=[tool],  # type: ignore[list-item]
            tool_choice={"type": "custom", "name": "expr"},
            max_output_tokens=16,
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == "tools" and "'expr'" in error["message"], error
