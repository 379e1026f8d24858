"""Chunks longer than the embedding model reads are embedded whole, over HTTP with the
openai SDK: the model's window comes from its catalog entry (here the mock upstream's
model, configured with a 100-token window counted in cl100k_base), each chunk is cut
into windows within it, and all windows go up in the same embeddings call."""

from __future__ import annotations

from collections.abc import Iterator

import bpe_openai
import openai
import pytest

from relaystack.app import build_app
from relaystack.config import parse_config
from tests.retrieval.conftest import ALICE_KEY, retrieval_settings
from tests.retrieval.test_vector_stores import create_and_poll
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread

WINDOW = 100


@pytest.fixture(scope="module")
def narrow(upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("windows") / "relaystack.db"
    settings = retrieval_settings(
        upstream.base_url, f"sqlite+aiosqlite:///{database}", embedding_model="openai/mock-model"
    )
    settings["providers"][0]["model_settings"] = {
        "mock-model": {"context_window": WINDOW, "tokenizer": "cl100k_base"}
    }
    with ServerThread(build_app(parse_config(settings))) as thread:
        yield f"{thread.url}/v1"


def test_every_token_of_a_long_chunk_is_embedded(narrow: str, upstream: MockUpstream) -> None:
    client = openai.OpenAI(base_url=narrow, api_key=ALICE_KEY, max_retries=0)
    text = " ".join(f"Sentence number {n} is about topic {n}." for n in range(100))
    upload = client.files.create(file=("long.txt", text.encode()), purpose="assistants")
    upstream.reset()
    store = create_and_poll(
        client,
        file_ids=[upload.id],
        chunking_strategy={
            "type": "static",
            "static": {"max_chunk_size_tokens": 400, "chunk_overlap_tokens": 0},
        },
    )
    assert store.file_counts.completed == 1
    chunks = [
        part.text
        for part in client.vector_stores.files.content(upload.id, vector_store_id=store.id)
    ]
    assert len(chunks) == 3  # ~1100 tokens: the stored chunks are still 400 tokens

    [call] = [body for body in upstream.requests if "input" in body]  # one call for all
    windows = call["input"]
    encoding = bpe_openai.get_encoding("cl100k_base")
    assert all(len(encoding.encode_ordinary(window)) <= WINDOW for window in windows)
    assert len(windows) > len(chunks)
    sent = " ".join(windows)
    assert all(f"topic {n}." in sent for n in range(100))  # nothing cut off

    found = client.vector_stores.search(store.id, query="topic 99")
    assert found.data and found.data[0].file_id == upload.id
