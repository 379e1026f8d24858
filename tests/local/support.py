"""Helpers shared by the local provider's tests."""

from __future__ import annotations

from typing import Any

from relaystack.inference.local.config import LocalProviderConfig

MODEL = "smollm2-135m-instruct"


def config(**overrides: Any) -> LocalProviderConfig:
    return LocalProviderConfig(type="local", **overrides)


def chat(content: str, **extra: Any) -> dict[str, Any]:
    """A chat-completions body for the local model with one user message."""
    return {"model": MODEL, "messages": [{"role": "user", "content": content}], **extra}
