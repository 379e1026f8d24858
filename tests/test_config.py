"""Configuration: env substitution, defaults, and one clear line for a bad file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from relaystack.app import build_app
from relaystack.config import ConfigError, load_config, parse_config
from tests.support.servers import ServerThread


def relaystack(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "relaystack", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_env_substitution_with_and_without_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTREAM_URL", "http://10.0.0.5:8000/v1")
    monkeypatch.delenv("MISSING_PORT", raising=False)
    config = parse_config(
        {
            "server": {"port": "${env.MISSING_PORT:=9999}"},
            "providers": [
                {
                    "id": "vllm",
                    "type": "openai-compatible",
                    "base_url": "${env.UPSTREAM_URL}",
                    "api_key_env": "VLLM_KEY",
                }
            ],
        }
    )
    assert config.server.port == 9999
    provider = config.providers[0]
    assert provider.base_url == "http://10.0.0.5:8000/v1"
    monkeypatch.setenv("VLLM_KEY", "sk-from-env")
    assert provider.resolved_api_key() == "sk-from-env"


def test_unset_variable_without_default_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_THERE", raising=False)
    with pytest.raises(ConfigError, match="NOT_THERE"):
        parse_config({"storage": {"url": "${env.NOT_THERE}"}})


def test_defaults_give_sqlite_in_the_user_data_dir() -> None:
    config = parse_config({})
    assert config.storage.url.startswith("sqlite:///")
    assert config.storage.url.endswith("relaystack.db")
    assert config.server.port == 8321
    assert config.server.max_body_bytes == 32 * 1024 * 1024


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"server": {"port": "eighty"}}, "server.port"),
        ({"providers": [{"id": "x", "type": "openai-compatible"}]}, "providers.0.base_url"),
        ({"storage": {"uri": "x"}}, "storage: unknown key 'uri' (did you mean 'url'?)"),
        ({"servr": {}}, "config: unknown key 'servr' (did you mean 'server'?)"),
        ({"server": {"zzz": 1}}, "server: unknown key 'zzz'"),
        ({"providers": [{"id": "x", "type": "telepathy"}]}, "providers.0.type"),
        ({"providers": [{"id": "x"}]}, "providers.0.type: a provider needs a type"),
        (
            {
                "providers": [
                    {"id": "a", "type": "openai-compatible", "base_url": "http://a"},
                    {"id": "a", "type": "openai-compatible", "base_url": "http://b"},
                ]
            },
            "used twice",
        ),
    ],
)
def test_bad_config_names_the_key(data: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


def test_load_config_reads_yaml(tmp_path: Path) -> None:
    path = tmp_path / "relaystack.yaml"
    path.write_text(
        "providers:\n"
        "  - id: openai\n"
        "    type: openai-compatible\n"
        "    base_url: https://api.openai.com/v1\n"
        "    models: [gpt-4o]\n"
    )
    config = load_config(path)
    assert config.providers[0].models == ["gpt-4o"]


def test_serve_with_a_bad_config_stops_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("server:\n  port: eighty\n")
    result = relaystack("serve", "--config", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "server.port" in lines[0]


def test_check_says_what_a_config_serves(tmp_path: Path) -> None:
    path = tmp_path / "relaystack.yaml"
    path.write_text(
        "providers:\n"
        "  - id: vllm\n"
        "    type: openai-compatible\n"
        "    base_url: http://127.0.0.1:8000/v1\n"
        "recording:\n"
        "  mode: replay\n"
        "  directory: recs\n"
        f"storage:\n  url: sqlite:///{tmp_path / 'state.db'}\n"  # check opens it
    )
    result = relaystack("check", "--config", str(path))
    assert result.returncode == 0, result.stderr
    assert "provider vllm: openai-compatible, http://127.0.0.1:8000/v1" in result.stdout
    assert "models discovered at start" in result.stdout
    assert "recording: replay recs" in result.stdout


def test_check_refuses_a_config_without_providers(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("providers: []\n")
    result = relaystack("check", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "relaystack: bad configuration: providers: at least one is needed"
    )


def _serve_once(path: Path) -> subprocess.CompletedProcess[str]:
    return relaystack("serve", "--config", str(path), "--port", "0")


def test_an_unreachable_upstream_to_discover_models_from_stops_start_up_in_one_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "relaystack.yaml"
    path.write_text(
        "providers:\n"
        "  - id: gone\n"
        "    type: openai-compatible\n"
        "    base_url: http://127.0.0.1:9/v1\n"  # discard port: nothing listens
        f"storage:\n  url: sqlite:///{tmp_path / 'state.db'}\n"
    )
    result = _serve_once(path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("relaystack: cannot start: providers.0 (gone): ")


def test_an_unsupported_database_stops_start_up_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "relaystack.yaml"
    path.write_text(
        "providers:\n"
        "  - id: a\n"
        "    type: openai-compatible\n"
        "    base_url: http://127.0.0.1:9/v1\n"
        "    models: [m]\n"
        "storage:\n  url: mysql://db/relaystack\n"
    )
    result = _serve_once(path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "storage" in lines[0]
    assert "mysql" in lines[0]


def _check_fails(tmp_path: Path, yaml_text: str) -> str:
    """The one line ``relaystack check`` prints for a bad file."""
    path = tmp_path / "relaystack.yaml"
    path.write_text(yaml_text)
    result = relaystack("check", "--config", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0].removeprefix("relaystack: bad configuration: ")


def test_check_names_a_misspelt_key_and_the_key_meant(tmp_path: Path) -> None:
    line = _check_fails(
        tmp_path,
        "providers:\n  - id: vllm\n    type: openai-compatible\n    baseurl: http://h/v1\n",
    )
    assert line == "providers.0: unknown key 'baseurl' (did you mean 'base_url'?)"


def test_check_lists_the_provider_types_there_are(tmp_path: Path) -> None:
    line = _check_fails(
        tmp_path,
        "providers:\n  - id: vllm\n    type: openai_compatible\n    base_url: http://h/v1\n",
    )
    assert line == (
        "providers.0.type: unknown provider type 'openai_compatible'; "
        "known types: openai-compatible, local"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "sqlite:/rel.db",
            "storage.url: a SQLite URL looks like sqlite:///relative.db or sqlite:////abs/path.db",
        ),
        (
            "sqlite://rel.db",
            "storage.url: a SQLite URL looks like sqlite:///relative.db or sqlite:////abs/path.db",
        ),
        (
            "postgre://admin:s3cret@db:5432/relaystack",
            "storage.url: unsupported database 'postgre': use sqlite:///relative.db or "
            "sqlite:////abs/path.db, or postgresql://USER@HOST/DB",
        ),
        (
            "postgresql:/admin:s3cret@db/relaystack",
            "storage.url: unsupported database 'postgresql': use sqlite:///relative.db or "
            "sqlite:////abs/path.db, or postgresql://USER@HOST/DB",
        ),
    ],
)
def test_check_explains_a_storage_url_without_echoing_it(
    tmp_path: Path, url: str, expected: str
) -> None:
    line = _check_fails(tmp_path, f"storage:\n  url: {url}\n")
    assert line == expected
    assert "s3cret" not in line


def test_check_never_prints_a_database_password(tmp_path: Path) -> None:
    path = tmp_path / "relaystack.yaml"
    path.write_text(
        "providers:\n  - type: local\n"
        "storage:\n  url: postgresql://admin:s3cret@db:5432/relaystack\n"
    )
    result = relaystack("check", "--config", str(path))
    # The host does not exist, so check says the storage cannot open (exit 1), and
    # says it without the password.
    assert result.returncode == 1, result.stderr
    assert "storage: postgresql://admin:***@db:5432/relaystack (cannot open" in result.stdout
    assert "s3cret" not in result.stdout + result.stderr


def test_a_relative_sqlite_path_in_a_file_is_read_relative_to_the_file(tmp_path: Path) -> None:
    config_dir, elsewhere = tmp_path / "etc", tmp_path / "elsewhere"
    config_dir.mkdir()
    elsewhere.mkdir()
    path = config_dir / "relaystack.yaml"
    path.write_text("providers:\n  - type: local\nstorage:\n  url: sqlite:///state/rel.db\n")
    result = relaystack("check", "--config", str(path), cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert f"storage: sqlite:///{config_dir / 'state' / 'rel.db'} (opens)\n" in result.stdout
    result = relaystack("check", "--config", "relaystack.yaml", cwd=config_dir)
    assert f"storage: sqlite:///{config_dir / 'state' / 'rel.db'} (opens)\n" in result.stdout


def test_a_server_keeps_its_state_beside_the_file_that_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir, elsewhere = tmp_path / "etc", tmp_path / "elsewhere"
    config_dir.mkdir()
    elsewhere.mkdir()
    path = config_dir / "relaystack.yaml"
    path.write_text(
        "providers:\n"
        "  - {id: a, type: openai-compatible, base_url: 'http://127.0.0.1:9/v1', models: [m]}\n"
        "storage:\n  url: sqlite:///rel.db\n"
    )
    monkeypatch.chdir(elsewhere)
    with ServerThread(build_app(load_config("../etc/relaystack.yaml"))) as thread:
        assert httpx.get(f"{thread.url}/v1/responses").status_code == 200
    assert (config_dir / "rel.db").is_file()
    assert not (elsewhere / "rel.db").exists()


def test_a_relative_sqlite_path_without_a_file_stays_relative_to_the_working_directory() -> None:
    for url in ("sqlite:///rel.db", "sqlite:///:memory:", "sqlite://", "sqlite:////abs/x.db"):
        assert parse_config({"storage": {"url": url}}).storage.url == url
    assert parse_config({"storage": {"url": "sqlite:////abs/x.db"}}, Path("/etc")).storage.url == (
        "sqlite:////abs/x.db"
    )
