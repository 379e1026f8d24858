"""Log probabilities of the local model's tokens, in chat-completions' shape.

Read from the logits llama.cpp left for the step that produced the token: the model's
own distribution (before temperature, top-k and any grammar), which is what OpenAI
reports too. A log-softmax over the vocabulary (49k floats for SmolLM2) costs well under
a millisecond per token next to the forward pass; it runs only when a client asked.
"""

from __future__ import annotations

from typing import Any

import llama_cpp
import numpy as np
from llama_cpp import Llama


def token_logprobs(llm: Llama, token: int, top: int) -> dict[str, Any]:
    """``{"token", "logprob", "bytes", "top_logprobs"}`` for ``token``, just sampled."""
    pointer = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)  # no public getter
    logits = np.ctypeslib.as_array(pointer, shape=(llm.n_vocab(),)).astype(np.float64)
    shifted = logits - logits.max()
    logprobs = shifted - np.log(np.exp(shifted).sum())
    entry = _entry(llm, token, float(logprobs[token]))
    best: list[int] = []
    if top > 0:
        candidates = np.argpartition(-logprobs, top)[:top]
        best = sorted(candidates.tolist(), key=lambda t: -logprobs[t])
    entry["top_logprobs"] = [_entry(llm, t, float(logprobs[t])) for t in best]
    return entry


def _entry(llm: Llama, token: int, logprob: float) -> dict[str, Any]:
    raw = llm.detokenize([token])
    return {
        "token": raw.decode("utf-8", errors="replace"),
        "logprob": logprob,
        "bytes": list(raw),
    }
