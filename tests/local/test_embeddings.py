"""Embeddings: the packaged multilingual-e5-small, and a GGUF model given by path."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest

from relaystack.errors import InvalidRequest
from relaystack.inference.local.model import default_model_path
from relaystack.inference.local.provider import LocalProvider

E5 = "multilingual-e5-small"


def vectors(result: dict[str, Any]) -> np.ndarray:
    return np.array([item["embedding"] for item in result["data"]], dtype=np.float32)


async def test_packaged_model_is_listed(provider: LocalProvider) -> None:
    models = {model.id: model for model in await provider.list_models()}
    assert models[E5].metadata == {"model_type": "embedding", "embedding_dimension": 384}


async def test_embeddings_are_unit_vectors_that_mean_something(provider: LocalProvider) -> None:
    texts = ["The cat sits on the mat.", "A kitten rests on a rug.", "Interest rates rose again."]
    result = await provider.embeddings({"model": E5, "input": texts})
    assert result["object"] == "list" and result["model"] == E5
    assert [item["index"] for item in result["data"]] == [0, 1, 2]
    matrix = vectors(result)
    assert matrix.shape == (3, 384)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-3)
    similarity = matrix @ matrix.T
    assert similarity[0, 1] > similarity[0, 2]
    assert result["usage"]["prompt_tokens"] == result["usage"]["total_tokens"] > 3


async def test_base64_encoding_matches_floats(provider: LocalProvider) -> None:
    floats = await provider.embeddings({"model": E5, "input": "hello"})
    packed = await provider.embeddings({"model": E5, "input": "hello", "encoding_format": "base64"})
    decoded = np.frombuffer(base64.b64decode(packed["data"][0]["embedding"]), dtype="<f4")
    assert np.allclose(decoded, vectors(floats)[0])


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": E5, "input": [[1, 2, 3]]}, "input"),
        ({"model": E5, "input": []}, "input"),
        ({"model": E5, "input": "hi", "encoding_format": "int8"}, "encoding_format"),
        ({"model": E5, "input": "hi", "dimensions": 128}, "dimensions"),
        ({"model": "smollm2-135m-instruct", "input": "hi"}, "model"),
    ],
)
async def test_bad_requests_are_400s(
    provider: LocalProvider, body: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await provider.embeddings(body)
    assert caught.value.param == param


async def test_without_an_embedding_model_the_answer_is_a_clear_400(make_provider: Any) -> None:
    local = make_provider()
    local.embedder = None
    with pytest.raises(InvalidRequest, match="no embedding model"):
        await local.embeddings({"model": E5, "input": "hi"})
    assert [model.id for model in await local.list_models()] == ["smollm2-135m-instruct"]


async def test_gguf_embedding_model_by_path(make_provider: Any) -> None:
    # Any GGUF runs in embedding mode; SmolLM2 has no pooling rule, so it is averaged.
    local = make_provider(embedding_model_path=str(default_model_path()))
    model = "smollm2-135m-instruct.q4_1"
    result = await local.embeddings({"model": model, "input": ["one", "two words"]})
    matrix = vectors(result)
    assert matrix.shape == (2, 576)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-3)
    assert result["usage"]["prompt_tokens"] == 3
