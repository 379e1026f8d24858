"""One chat turn on the loaded model, token by token (runs on the worker thread).

A ``Generation`` reports plain events (``TextDelta``, ``ToolCall``, ``Finish``); the event loop
side turns them into chat-completion chunks. Tokens are sampled with ``Llama.generate``
rather than ``create_chat_completion`` so that this loop owns what matters here: exact
prompt and completion token counts, ``max_tokens`` and the context limit, stop
sequences, and a cancellation check between any two tokens.

Tool calls: the model is told (in the system prompt) to answer ``<tool_call>`` + JSON.

- ``tool_choice`` "required" / a named function: the answer is started with the marker
  and the call is sampled under a grammar built from the tools' parameter schemas, so
  it always parses and names a real function;
- "auto": the model writes freely; if the marker appears, generation switches to the
  same grammar for the call (the text before the marker stays the message content).
  llama.cpp's server calls this a lazy grammar. A small model seldom chooses to call a
  tool on its own, but when it does the call is well-formed.

One call per turn: ``parallel_tool_calls`` permits several but never requires them.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import llama_cpp
from llama_cpp import Llama, LlamaGrammar

from relaystack.errors import InvalidRequest
from relaystack.inference.local.grammar import Grammars, check_grammar, grammar_tools_hint
from relaystack.inference.local.logprobs import token_logprobs
from relaystack.inference.local.prompt import TOOL_CALL_OPEN, PromptBuilder
from relaystack.inference.local.request import ChatRequest
from relaystack.inference.local.text import StopScanner
from relaystack.wire.json import dumps_stdlib, loads_lenient

# Samplers OpenAI's API has no knob for: llama.cpp's defaults, which keep a small model
# from picking nonsense tokens in the long tail at temperature > 0.
TOP_K = 40
MIN_P = 0.05


@dataclass(frozen=True)
class TextDelta:
    text: str
    # Chat logprob entries of the tokens this text completes (when they were asked for).
    logprobs: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: str  # JSON text, as OpenAI sends it


@dataclass(frozen=True)
class Finish:
    reason: str  # "stop" | "length" | "tool_calls"
    prompt_tokens: int
    completion_tokens: int


Event = TextDelta | ToolCall | Finish


class ChatModel:
    """A GGUF chat model loaded into a llama.cpp context, with its chat template."""

    def __init__(self, path: Path, *, context_size: int, threads: int | None) -> None:
        self.llm = Llama(
            model_path=str(path),
            n_ctx=context_size,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
        # llama.cpp rounds the context up (to a multiple of 256) but llama-cpp-python
        # sizes its token buffer by the size asked for: the smaller one is the limit.
        self.n_ctx = min(self.llm.n_ctx(), self.llm.context_params.n_ctx)
        self.prompts = PromptBuilder(
            self.llm.metadata.get("tokenizer.chat_template"),
            bos_token=self._token_text(self.llm.token_bos()),
            eos_token=self._token_text(self.llm.token_eos()),
        )

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def close(self) -> None:
        self.llm.close()


@dataclass
class _Sampled:
    text: str
    reason: str  # "stop" | "length" | "cancelled"
    stop: str | None = None


class Generation:
    """One chat request sampled to its end, reporting ``Event``s through ``emit``."""

    def __init__(
        self,
        model: ChatModel,
        request: ChatRequest,
        grammars: Grammars,
        emit: Callable[[Event], None],
        cancelled: Callable[[], bool],
    ) -> None:
        self._model = model
        self._grammars = grammars
        self._llm = model.llm
        self._vocab = model.llm._model.vocab  # the public API has no getter for it
        self._request = request
        self._emit = emit
        self._cancelled = cancelled
        self._prompt_tokens = 0
        self._completion_tokens = 0

    def run(self) -> None:
        request, llm = self._request, self._llm
        prompt = self._model.prompts.render(request)
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        if len(tokens) >= self._model.n_ctx:
            raise InvalidRequest(
                f"The conversation is {len(tokens)} tokens long; the local model's context "
                f"holds {self._model.n_ctx}.",
                param="messages",
                code="context_length_exceeded",
            )
        answer_grammar, call_grammar = self._grammars.answer, self._grammars.call
        if answer_grammar is not None:
            check_grammar(self._vocab, answer_grammar, param="response_format")
        if call_grammar is not None:
            hint = grammar_tools_hint(request.tools)
            check_grammar(self._vocab, call_grammar, param="tools", hint=hint)
        self._prompt_tokens = len(tokens)
        # llama.cpp treats the default seed as "choose one at random".
        llm.set_seed(request.seed if request.seed is not None else llama_cpp.LLAMA_DEFAULT_SEED)

        if call_grammar is not None and request.tool_mode in ("required", "named"):
            reason = self._call(tokens, call_grammar, self._grammars.call_prefix)
        else:
            # A JSON answer format leaves no room for a tool-call marker in the text.
            watch = call_grammar is not None and answer_grammar is None
            trigger = TOOL_CALL_OPEN if watch else None
            answer = self._sample(
                tokens, answer_grammar, request.stop, stream=True, trigger=trigger
            )
            reason = answer.reason
            if answer.stop == TOOL_CALL_OPEN and call_grammar is not None:
                marker = (answer.text + TOOL_CALL_OPEN + "\n").encode("utf-8")
                follow = tokens + llm.tokenize(marker, add_bos=False, special=False)
                reason = self._call(follow, call_grammar)
        if reason == "cancelled" or self._cancelled():
            return
        self._emit(Finish(reason, self._prompt_tokens, self._completion_tokens))

    def _call(self, tokens: list[int], grammar: str, prefix: str = "") -> str:
        """Sample one tool call under ``grammar`` (after ``prefix``, the call's fixed
        opening, which is fed rather than sampled); returns the finish reason."""
        if prefix:
            opening = self._llm.tokenize(prefix.encode("utf-8"), add_bos=False, special=False)
            tokens = tokens + opening
            self._completion_tokens += len(opening)  # the call's, though not sampled
        sampled = self._sample(tokens, grammar, [], stream=False)
        if sampled.reason == "cancelled":
            return "cancelled"
        sampled.text = prefix + sampled.text
        try:
            call = loads_lenient(sampled.text)
        except ValueError:
            # Only a cut-off (max_tokens / context) leaves the grammar's JSON unfinished;
            # half a call is no call.
            return "length"
        arguments = dumps_stdlib(call["arguments"], ascii_only=False, compact=True)
        self._emit(ToolCall(call["name"], arguments))
        return "tool_calls"

    def _sample(
        self,
        tokens: list[int],
        grammar: str | None,
        stops: list[str],
        *,
        stream: bool,
        trigger: str | None = None,
    ) -> _Sampled:
        """Sample until end of turn, a stop sequence, ``trigger``, or the token budget."""
        request, llm = self._request, self._llm
        budget = self._model.n_ctx - len(tokens)
        if request.max_tokens is not None:
            budget = min(budget, request.max_tokens - self._completion_tokens)
        if budget <= 0:
            return _Sampled("", "length")

        pieces: list[str] = []
        # Leading whitespace is held while the trigger may still follow it.
        pending = "" if trigger else None
        # Logprobs of sampled tokens whose text is not out yet (held back or pending).
        scored: list[dict[str, Any]] = []

        def out(text: str) -> None:
            nonlocal pending
            if pending is not None:
                pending += text
                if not pending.strip():
                    return
                text, pending = pending, None
            pieces.append(text)
            if stream and text:
                self._emit(TextDelta(text, tuple(scored)))
                scored.clear()

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        scanner = StopScanner([*stops, trigger] if trigger else stops)
        # generate() reuses the KV cache for the prompt's longest cached prefix. Keep at
        # least the last two prompt tokens out of that reuse: llama.cpp's one-token
        # kernels round differently from its batch kernels, so re-evaluating a single
        # token gives slightly different logits, and a seeded request would not repeat.
        llm.n_tokens = max(0, min(llm.n_tokens, len(tokens) - 2))
        generator = llm.generate(
            tokens,
            top_k=TOP_K,
            top_p=request.top_p,
            min_p=MIN_P,
            temp=request.temperature,
            repeat_penalty=1.0,
            grammar=LlamaGrammar.from_string(grammar, verbose=False) if grammar else None,
        )
        reason, stop, sampled = "length", None, 0
        try:
            for token in generator:
                if self._cancelled():
                    return _Sampled("".join(pieces), "cancelled")
                if llama_cpp.llama_vocab_is_eog(self._vocab, token):
                    reason = "stop"
                    break
                sampled += 1
                self._completion_tokens += 1
                if request.logprobs and stream:
                    scored.append(token_logprobs(llm, token, request.top_logprobs))
                text, stop = scanner.feed(decoder.decode(llm.detokenize([token])))
                out(text)
                if stop is not None:
                    reason = "stop"
                    break
                if sampled >= budget:
                    break
        finally:
            generator.close()
        if stop is None:
            text, stop = scanner.feed(decoder.decode(b"", final=True))
            out(text if stop is not None else text + scanner.flush())
        if pending and stop != trigger:  # only whitespace came: it is the answer after all
            pieces.append(pending)
            if stream:
                self._emit(TextDelta(pending, tuple(scored)))
        return _Sampled("".join(pieces), reason, stop)


def uses_amx() -> bool:
    """Whether the llama.cpp build runs matrix products on Intel AMX tiles."""
    return b"AMX_INT8 = 1" in llama_cpp.llama_print_system_info()
