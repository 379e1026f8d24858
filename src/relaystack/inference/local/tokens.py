"""The embedded model's own token counts: its chat template and its GGUF vocabulary.

A vocabulary-only copy of the model (no weights; about a quarter of a second to open
for SmolLM2) is opened on the event loop's side, so counting never waits for the
worker thread that generates; the prompt is rendered exactly as a generation renders
it, so a count is what the model would read.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from llama_cpp import Llama

from relaystack.inference.local.prompt import PromptBuilder
from relaystack.inference.local.request import parse_chat_request

# llama.cpp wants some context even for a vocabulary-only model; it holds no weights.
_VOCAB_CONTEXT = 512


class GgufTokenizer:
    """Counts a chat body in the tokens the local model would read."""

    exact = True

    def __init__(self, path: Path) -> None:
        self.name = f"gguf:{path.name}"
        self._path = path
        self._lock = threading.Lock()
        self._vocab: Llama | None = None
        self._prompts: PromptBuilder | None = None

    def trained_context(self) -> int | None:
        """The context the model was trained for, from its GGUF metadata."""
        metadata = self._model().metadata
        value = metadata.get(f"{metadata.get('general.architecture')}.context_length")
        return int(value) if value else None

    def count_chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> int:
        body: dict[str, Any] = {"messages": messages or [{"role": "user", "content": ""}]}
        if tools:
            body["tools"] = tools
        model = self._model()
        assert self._prompts is not None
        prompt = self._prompts.render(parse_chat_request(body))
        return len(model.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

    def count_text(self, text: str) -> int:
        # An embedding input is read with the model's begin (and end) tokens around it.
        return len(self._model().tokenize(text.encode("utf-8"), add_bos=True, special=False)) + 1

    def _model(self) -> Llama:
        with self._lock:
            if self._vocab is None:
                vocab = Llama(
                    model_path=str(self._path),
                    vocab_only=True,
                    n_ctx=_VOCAB_CONTEXT,
                    verbose=False,
                )
                self._prompts = PromptBuilder(
                    vocab.metadata.get("tokenizer.chat_template"),
                    bos_token=_token_text(vocab, vocab.token_bos()),
                    eos_token=_token_text(vocab, vocab.token_eos()),
                )
                self._vocab = vocab
            return self._vocab

    def close(self) -> None:
        with self._lock:
            if self._vocab is not None:
                self._vocab.close()
                self._vocab = None


def _token_text(model: Llama, token: int) -> str:
    if token < 0:
        return ""
    return model.detokenize([token], special=True).decode("utf-8", errors="replace")
