"""API keys kept outside the config file: a YAML/JSON file, or one environment variable.

Both give ``(key, owner)`` pairs; ``config.AuthConfig`` merges them with inline keys.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

KeyPair = tuple[str, str]


def keys_from_file(path: str) -> list[KeyPair]:
    """A YAML (or JSON) list of ``{key, owner}``; ``{keys: [...]}`` works too."""
    try:
        data = yaml.safe_load(Path(path).expanduser().read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read keys_file {path}: {exc.strerror}") from None
    except yaml.YAMLError:
        raise ValueError(f"keys_file {path} is not valid YAML or JSON") from None
    if isinstance(data, dict) and "keys" in data:
        data = data["keys"]
    if not isinstance(data, list):
        raise ValueError(f"keys_file {path} must hold a list of {{key, owner}}")
    pairs: list[KeyPair] = []
    for entry in data:
        if (
            not isinstance(entry, dict)
            or set(entry) != {"key", "owner"}
            or not all(isinstance(value, str) and value for value in entry.values())
        ):
            raise ValueError(f"keys_file {path}: every entry needs exactly key and owner")
        pairs.append((entry["key"], entry["owner"]))
    return pairs


def keys_from_env(name: str, environ: dict[str, str] | None = None) -> list[KeyPair]:
    """``key:owner,key2:owner2`` from the variable ``name`` (a key may contain ':')."""
    env = os.environ if environ is None else environ
    if name not in env:
        raise ValueError(f"environment variable {name} (keys_env) is not set")
    pairs: list[KeyPair] = []
    for entry in env[name].split(","):
        key, sep, owner = entry.strip().rpartition(":")
        if not entry.strip():
            continue
        if not sep or not key.strip() or not owner.strip():
            raise ValueError(f"{name} must look like key:owner,key2:owner2")
        pairs.append((key.strip(), owner.strip()))
    return pairs
