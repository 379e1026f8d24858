"""Embeddings for chunks and queries from any configured model, in batches.

The model is a public id (``local/multilingual-e5-small``, ``openai/text-embedding-3-small``):
its provider's ``embeddings`` is called as ``/v1/embeddings`` would call it, so the
recording transport sees upstream calls. Vectors come back as unit-length float32, so
a dot product is the cosine similarity.
"""

from __future__ import annotations

import numpy as np

from relaystack.inference.registry import ModelRegistry

BATCH = 64  # inputs per call: OpenAI takes up to 2048, but a failed call then loses less


class Embeddings:
    def __init__(self, models: ModelRegistry, batch: int = BATCH) -> None:
        self._models = models
        self._batch = batch

    async def embed(self, model_id: str, texts: list[str]) -> np.ndarray:
        model = self._models.resolve(model_id)
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch):
            body = {
                "model": model.upstream_id,
                "input": texts[start : start + self._batch],
                "encoding_format": "float",
            }
            answer = await model.provider.embeddings(body)
            ordered = sorted(answer["data"], key=lambda item: item["index"])
            vectors.extend(item["embedding"] for item in ordered)
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms == 0, 1, norms)
