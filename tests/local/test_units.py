"""The local provider's pure parts: stop scanning, request checks, prompt shaping."""

from __future__ import annotations

from pathlib import Path

import pytest

from relaystack.config import ConfigError
from relaystack.errors import InvalidRequest
from relaystack.inference.local.grammar import grammars_for
from relaystack.inference.local.model import DEFAULT_MODEL_ID, resolve_model
from relaystack.inference.local.prompt import template_messages
from relaystack.inference.local.request import parse_chat_request
from relaystack.inference.local.text import StopScanner
from tests.local.support import chat

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def feed_all(scanner: StopScanner, pieces: list[str]) -> tuple[str, str | None]:
    out = []
    for piece in pieces:
        text, stop = scanner.feed(piece)
        out.append(text)
        if stop is not None:
            return "".join(out), stop
    return "".join(out) + scanner.flush(), None


class TestStopScanner:
    def test_stop_split_across_pieces_is_never_emitted(self) -> None:
        scanner = StopScanner(["END"])
        assert scanner.feed("hello E") == ("hello ", None)
        assert scanner.feed("N") == ("", None)
        assert scanner.feed("D and more") == ("", "END")

    def test_false_start_is_released(self) -> None:
        assert feed_all(StopScanner(["END"]), ["a E", "Nx", "!"]) == ("a ENx!", None)

    def test_earliest_of_several_stops_wins(self) -> None:
        assert feed_all(StopScanner(["cd", "b"]), ["abcd"]) == ("a", "b")

    def test_held_text_flushed_at_the_end(self) -> None:
        assert feed_all(StopScanner(["<tool_call>"]), ["x <tool"]) == ("x <tool", None)

    def test_no_stops_passes_everything(self) -> None:
        assert StopScanner([]).feed("abc") == ("abc", None)


class TestRequest:
    def test_defaults(self) -> None:
        request = parse_chat_request(chat("hi"))
        assert request.max_tokens is None
        assert request.tool_mode == "none"
        assert request.include_usage is False

    def test_max_completion_tokens_wins_over_max_tokens(self) -> None:
        request = parse_chat_request(chat("hi", max_completion_tokens=3, max_tokens=9))
        assert request.max_tokens == 3

    @pytest.mark.parametrize(
        ("extra", "param"),
        [
            ({"n": 2}, "n"),
            ({"temperature": 3}, "temperature"),
            ({"top_p": -1}, "top_p"),
            ({"max_tokens": 0}, "max_tokens"),
            ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
            ({"response_format": {"type": "xml"}}, "response_format"),
            ({"tools": [{"type": "web_search"}]}, "tools[0]"),
            ({"tool_choice": "required"}, "tool_choice"),
            (
                {
                    "tools": [WEATHER],
                    "tool_choice": {"type": "function", "function": {"name": "x"}},
                },
                "tool_choice",
            ),
            ({"messages": []}, "messages"),
        ],
    )
    def test_bad_parameters_are_400s_naming_the_parameter(
        self, extra: dict[str, object], param: str
    ) -> None:
        with pytest.raises(InvalidRequest) as caught:
            parse_chat_request(chat("hi", **extra))
        assert caught.value.param == param
        assert caught.value.status_code == 400

    def test_tools_default_to_auto(self) -> None:
        assert parse_chat_request(chat("hi", tools=[WEATHER])).tool_mode == "auto"

    def test_unsupported_schema_is_a_400(self) -> None:
        fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"$ref": "#/nope"}}}
        with pytest.raises(InvalidRequest) as caught:
            grammars_for(parse_chat_request(chat("hi", response_format=fmt)))
        assert caught.value.param == "response_format"


class TestPrompt:
    def test_conversation_reduced_to_plain_turns(self) -> None:
        body = {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "Sunny"},
                {"role": "user", "content": "Thanks. And tomorrow?"},
                {"role": "developer", "content": "Answer in English."},
            ],
            "tools": [WEATHER],
        }
        messages = template_messages(parse_chat_request(body))
        assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
        assert messages[0]["content"].startswith("Be brief.\n\nAnswer in English.\n\n")
        assert '"name": "get_weather"' in messages[0]["content"]
        assert messages[2]["content"] == (
            '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
        )
        assert messages[3]["content"] == (
            "<tool_response>\nSunny\n</tool_response>\n\nThanks. And tomorrow?"
        )

    def test_images_are_a_400(self) -> None:
        content = [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]
        request = parse_chat_request({"messages": [{"role": "user", "content": content}]})
        with pytest.raises(InvalidRequest) as caught:
            template_messages(request)
        assert caught.value.param == "messages[0].content"


class TestModelFiles:
    def test_default_model_ships_in_a_package(self) -> None:
        path, model_id = resolve_model(None, None)
        assert model_id == DEFAULT_MODEL_ID
        assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
        assert path.stat().st_size > 50_000_000

    def test_configured_path_gives_the_lowercased_stem(self) -> None:
        default, _ = resolve_model(None, None)
        assert resolve_model(str(default), None) == (default, "smollm2-135m-instruct.q4_1")
        assert resolve_model(str(default), "mine") == (default, "mine")

    def test_missing_file_is_a_config_error(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError):
            resolve_model(str(tmp_path / "nope.gguf"), None)
