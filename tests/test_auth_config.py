"""``auth`` in the configuration: inline keys, a keys file, a keys environment variable."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest

from relaystack.app import build_app
from relaystack.config import ConfigError, parse_config
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread
from tests.support.stack import stack_config


def _pairs(data: dict) -> list[tuple[str, str]]:
    auth = parse_config({"auth": data}).auth
    assert auth is not None
    return [(entry.key, entry.owner) for entry in auth.keys]


def test_keys_from_inline_yaml_file_json_file_and_env_are_merged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    yaml_file = tmp_path / "keys.yaml"
    yaml_file.write_text("- key: k-yaml\n  owner: yara\n")
    json_file = tmp_path / "keys.json"
    json_file.write_text(json.dumps({"keys": [{"key": "k-json", "owner": "jo"}]}))
    monkeypatch.setenv("RELAYSTACK_TEST_KEYS", " k-env:eve , k:with:colon:cole ,")

    assert _pairs({"keys": [{"key": "k-inline", "owner": "ina"}], "keys_file": str(yaml_file)}) == [
        ("k-inline", "ina"),
        ("k-yaml", "yara"),
    ]
    assert _pairs({"keys_file": str(json_file)}) == [("k-json", "jo")]
    assert _pairs({"keys_env": "RELAYSTACK_TEST_KEYS"}) == [
        ("k-env", "eve"),
        ("k:with:colon", "cole"),
    ]


@pytest.mark.parametrize(
    ("auth", "file_text", "env", "problem"),
    [
        ({}, None, None, "no API keys given"),
        ({"keys_env": "RELAYSTACK_TEST_KEYS"}, None, None, "RELAYSTACK_TEST_KEYS"),
        ({"keys_env": "RELAYSTACK_TEST_KEYS"}, None, "no-owner", "key:owner"),
        ({"keys_env": "RELAYSTACK_TEST_KEYS"}, None, "", "no API keys given"),
        ({"keys_file": "{file}"}, "- key: k\n", None, "every entry needs exactly key and owner"),
        ({"keys_file": "{file}"}, "key: k\nowner: o\n", None, "must hold a list"),
        ({"keys_file": "{file}"}, "[unclosed", None, "not valid YAML"),
        ({"keys_file": "{missing}"}, None, None, "cannot read keys_file"),
        (
            {"keys": [{"key": "k", "owner": "a"}, {"key": "k", "owner": "b"}]},
            None,
            None,
            "two owners",
        ),
        ({"keys": [{"key": "k"}]}, None, None, "auth.keys.0.owner"),
    ],
)
def test_bad_auth_settings_are_one_line_config_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    auth: dict,
    file_text: str | None,
    env: str | None,
    problem: str,
) -> None:
    keys_file = tmp_path / "keys.yaml"
    if file_text is not None:
        keys_file.write_text(file_text)
    if env is None:
        monkeypatch.delenv("RELAYSTACK_TEST_KEYS", raising=False)
    else:
        monkeypatch.setenv("RELAYSTACK_TEST_KEYS", env)
    settings = {
        key: value.format(file=keys_file, missing=tmp_path / "nope.yaml")
        if isinstance(value, str)
        else value
        for key, value in auth.items()
    }
    with pytest.raises(ConfigError) as caught:
        parse_config({"auth": settings})
    assert problem in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_server_with_keys_from_the_environment(
    upstream: MockUpstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAYSTACK_TEST_KEYS", "sk-env-1:erin")
    config = stack_config(
        upstream.base_url,
        f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}",
        auth={"keys_env": "RELAYSTACK_TEST_KEYS"},
    )
    with ServerThread(build_app(config)) as thread:
        url = f"{thread.url}/v1"
        erin = openai.OpenAI(base_url=url, api_key="sk-env-1", max_retries=0)
        assert erin.conversations.create().object == "conversation"
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=url, api_key="sk-env-2", max_retries=0).models.list()
