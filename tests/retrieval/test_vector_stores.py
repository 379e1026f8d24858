"""``/v1/vector_stores`` with the openai SDK over HTTP, on SQLite and PostgreSQL, with
the embedded embedding model: ingestion of each file kind, hybrid search, filters,
thresholds, batches, deletes that reach every store, and owner isolation."""

from __future__ import annotations

import time

import openai
import pytest
from openai.types import VectorStore

from tests.retrieval.conftest import ALICE_KEY
from tests.retrieval.documents import DOCUMENTS
from tests.support.mock_upstream import MockUpstream


def create_and_poll(client: openai.OpenAI, **kwargs: object) -> VectorStore:
    """Create a store and wait for its files (the SDK polls files and batches, not stores)."""
    store = client.vector_stores.create(**kwargs)  # type: ignore[arg-type]
    deadline = time.monotonic() + 60
    while store.status == "in_progress" and time.monotonic() < deadline:
        time.sleep(0.05)
        store = client.vector_stores.retrieve(store.id)
    return store


def _upload(client: openai.OpenAI, name: str, content: bytes | None = None) -> str:
    return client.files.create(file=(name, content or DOCUMENTS[name]), purpose="assistants").id


@pytest.fixture(scope="module")
def library(files_server: str) -> tuple[str, dict[str, str]]:
    """A store holding one file of every kind, ingested (once per backend)."""
    alice = openai.OpenAI(base_url=files_server, api_key=ALICE_KEY, max_retries=0)
    ids = {name: _upload(alice, name) for name in DOCUMENTS}
    store = create_and_poll(
        alice, name="library", file_ids=list(ids.values()), metadata={"team": "docs"}
    )
    assert store.status == "completed", store
    assert store.file_counts.completed == len(DOCUMENTS) and store.file_counts.failed == 0
    assert store.usage_bytes > 0 and store.metadata == {"team": "docs"}
    return store.id, ids


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Which volcano in Sicily erupts lava?", "volcanoes.txt"),
        ("how do I make sourdough rise", "bread.md"),
        ("why does the sea level change during the day", "tides.html"),
        ("how does the knight move", "chess.json"),
        ("longest river in Egypt", "rivers.csv"),
        ("insects that make honey", "bees.pdf"),
    ],
)
def test_each_kind_is_ingested_and_found(
    alice: openai.OpenAI, library: tuple[str, dict[str, str]], query: str, expected: str
) -> None:
    store_id, ids = library
    page = alice.vector_stores.search(store_id, query=query, max_num_results=3)
    assert page.data, query
    best = page.data[0]
    assert (best.file_id, best.filename) == (ids[expected], expected)
    assert 0 < best.score <= 1 and best.content[0].type == "text"
    assert page.search_query == [query]


def test_html_script_text_is_not_indexed(
    alice: openai.OpenAI, library: tuple[str, dict[str, str]]
) -> None:
    store_id, ids = library
    content = alice.vector_stores.files.content(ids["tides.html"], vector_store_id=store_id)
    text = " ".join(part.text for part in content)
    assert "Tides rise and fall" in text and "quasar" not in text


def test_files_attributes_filters_threshold_and_limits(alice: openai.OpenAI) -> None:
    store = alice.vector_stores.create(name="filtered")
    for name, year, kind in (("volcanoes.txt", 2020, "geo"), ("bread.md", 2024, "food")):
        done = alice.vector_stores.files.create_and_poll(
            vector_store_id=store.id,
            file_id=_upload(alice, name),
            attributes={"year": year, "kind": kind},
        )
        assert done.status == "completed" and done.attributes == {"year": year, "kind": kind}
    query = "volcano lava bread oven"
    both = alice.vector_stores.search(store.id, query=query)
    assert {hit.filename for hit in both.data} == {"volcanoes.txt", "bread.md"}

    eq = alice.vector_stores.search(
        store.id, query=query, filters={"type": "eq", "key": "kind", "value": "food"}
    )
    assert [hit.filename for hit in eq.data] == ["bread.md"]
    assert eq.data[0].attributes == {"year": 2024, "kind": "food"}
    compound = alice.vector_stores.search(
        store.id,
        query=query,
        filters={
            "type": "and",
            "filters": [
                {"type": "gte", "key": "year", "value": 2019},
                {"type": "lt", "key": "year", "value": 2021},
            ],
        },
    )
    assert [hit.filename for hit in compound.data] == ["volcanoes.txt"]
    none = alice.vector_stores.search(
        store.id, query=query, filters={"type": "in", "key": "kind", "value": ["music"]}
    )
    assert none.data == []

    assert len(alice.vector_stores.search(store.id, query=query, max_num_results=1).data) == 1
    strict = alice.vector_stores.search(
        store.id, query="volcanoes", ranking_options={"score_threshold": 0.99}
    )
    assert all(hit.score >= 0.99 for hit in strict.data)
    assert [hit.filename for hit in strict.data] == ["volcanoes.txt"]

    bread_id = eq.data[0].file_id
    updated = alice.vector_stores.files.update(
        bread_id, vector_store_id=store.id, attributes={"kind": "baking"}
    )
    assert updated.attributes == {"kind": "baking"}
    food = alice.vector_stores.search(
        store.id, query=query, filters={"type": "eq", "key": "kind", "value": "food"}
    )
    assert food.data == []
    listed = alice.vector_stores.files.list(store.id, filter="completed")
    assert len(listed.data) == 2


# Mechanics: embeddings from the mock upstream.


def test_file_batches(plain_alice: openai.OpenAI) -> None:
    store = plain_alice.vector_stores.create(name="batched")
    ids = [_upload(plain_alice, "chess.json"), _upload(plain_alice, "rivers.csv")]
    batch = plain_alice.vector_stores.file_batches.create_and_poll(
        vector_store_id=store.id, file_ids=ids, attributes={"source": "batch"}
    )
    assert batch.status == "completed" and batch.file_counts.completed == 2
    assert batch.id.startswith("vsfb_")
    files = plain_alice.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id)
    assert sorted(f.id for f in files.data) == sorted(ids)
    assert all(f.attributes == {"source": "batch"} for f in files.data)
    again = plain_alice.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id)
    assert again.file_counts.total == 2


def test_unreadable_files_fail_with_a_reason(plain_alice: openai.OpenAI) -> None:
    store = plain_alice.vector_stores.create(name="bad files")
    image = plain_alice.vector_stores.files.create_and_poll(
        vector_store_id=store.id, file_id=_upload(plain_alice, "photo.png", b"\x89PNG....")
    )
    assert image.status == "failed" and image.last_error.code == "unsupported_file"
    broken = plain_alice.vector_stores.files.create_and_poll(
        vector_store_id=store.id, file_id=_upload(plain_alice, "broken.pdf", b"%PDF-1.4 garbage")
    )
    assert broken.status == "failed" and broken.last_error.code == "invalid_file"
    counts = plain_alice.vector_stores.retrieve(store.id).file_counts
    assert (counts.failed, counts.completed, counts.total) == (2, 0, 2)


def test_deleting_a_file_removes_its_chunks_from_every_store(plain_alice: openai.OpenAI) -> None:
    file_id = _upload(plain_alice, "volcanoes.txt")
    stores = [
        create_and_poll(plain_alice, name=f"copy {n}", file_ids=[file_id]).id for n in range(2)
    ]
    for store_id in stores:
        assert plain_alice.vector_stores.search(store_id, query="Etna volcano").data
    plain_alice.files.delete(file_id)
    for store_id in stores:
        assert plain_alice.vector_stores.search(store_id, query="Etna volcano").data == []
        assert plain_alice.vector_stores.retrieve(store_id).file_counts.total == 0
        with pytest.raises(openai.NotFoundError):
            plain_alice.vector_stores.files.retrieve(file_id, vector_store_id=store_id)


def test_removing_a_file_from_one_store_keeps_it_in_the_other(plain_alice: openai.OpenAI) -> None:
    file_id = _upload(plain_alice, "bread.md")
    first, second = (create_and_poll(plain_alice, file_ids=[file_id]).id for _ in range(2))
    deleted = plain_alice.vector_stores.files.delete(file_id, vector_store_id=first)
    assert deleted.deleted
    assert plain_alice.vector_stores.search(first, query="sourdough").data == []
    assert plain_alice.vector_stores.search(second, query="sourdough").data
    assert plain_alice.files.retrieve(file_id).id == file_id


def test_store_lifecycle(plain_alice: openai.OpenAI) -> None:
    store = plain_alice.vector_stores.create(
        name="before", expires_after={"anchor": "last_active_at", "days": 2}
    )
    assert store.expires_after.days == 2 and store.expires_at is not None
    updated = plain_alice.vector_stores.update(store.id, name="after", metadata={"k": "v"})
    assert (updated.name, updated.metadata) == ("after", {"k": "v"})
    assert store.id in [s.id for s in plain_alice.vector_stores.list(limit=100)]
    assert plain_alice.vector_stores.delete(store.id).deleted
    with pytest.raises(openai.NotFoundError):
        plain_alice.vector_stores.retrieve(store.id)


def test_bad_requests_are_400s(plain_alice: openai.OpenAI) -> None:
    store = plain_alice.vector_stores.create()
    with pytest.raises(openai.BadRequestError):
        plain_alice.vector_stores.search(store.id, query="")
    with pytest.raises(openai.BadRequestError):
        plain_alice.vector_stores.search(store.id, query="x", max_num_results=51)
    with pytest.raises(openai.BadRequestError):
        plain_alice.vector_stores.create(
            chunking_strategy={
                "type": "static",
                "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 150},
            }
        )
    with pytest.raises(openai.NotFoundError) as caught:
        plain_alice.vector_stores.create(file_ids=["file-missing"])
    assert caught.value.body["param"] == "file_ids"


def test_static_chunking_cuts_small_chunks(plain_alice: openai.OpenAI) -> None:
    text = " ".join(f"Sentence number {n} is about topic {n}." for n in range(200)).encode()
    store = create_and_poll(
        plain_alice,
        file_ids=[_upload(plain_alice, "long.txt", text)],
        chunking_strategy={
            "type": "static",
            "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 20},
        },
    )
    file = plain_alice.vector_stores.files.list(store.id).data[0]
    assert file.chunking_strategy.static.max_chunk_size_tokens == 100
    chunks = list(plain_alice.vector_stores.files.content(file.id, vector_store_id=store.id))
    assert len(chunks) > 10


def test_another_owners_stores_and_files_are_not_found(
    plain_alice: openai.OpenAI, plain_bob: openai.OpenAI
) -> None:
    alices_file = _upload(plain_alice, "tides.html")
    alices_store = create_and_poll(plain_alice, file_ids=[alices_file]).id
    with pytest.raises(openai.NotFoundError):
        plain_bob.vector_stores.retrieve(alices_store)
    with pytest.raises(openai.NotFoundError):
        plain_bob.vector_stores.search(alices_store, query="tides")
    with pytest.raises(openai.NotFoundError):
        plain_bob.vector_stores.files.list(alices_store)
    with pytest.raises(openai.NotFoundError):
        plain_bob.vector_stores.delete(alices_store)
    assert alices_store not in [s.id for s in plain_bob.vector_stores.list(limit=100)]
    bobs_store = plain_bob.vector_stores.create().id
    with pytest.raises(openai.NotFoundError):
        plain_bob.vector_stores.files.create(vector_store_id=bobs_store, file_id=alices_file)
    assert plain_alice.vector_stores.search(alices_store, query="tides").data


def test_rewrite_query_keeps_the_content_words(plain_alice: openai.OpenAI) -> None:
    store = create_and_poll(plain_alice, file_ids=[_upload(plain_alice, "volcanoes.txt")])
    question = "What is the most active volcano in Europe, please?"
    plain = plain_alice.vector_stores.search(store.id, query=question)
    assert plain.search_query == [question]  # without rewrite_query: as given
    rewritten = plain_alice.vector_stores.search(
        store.id, query=[question, "Where is Etna?"], rewrite_query=True
    )
    assert rewritten.search_query == ["active volcano Europe", "Etna"]
    assert rewritten.data[0].filename == "volcanoes.txt"
    only_stop_words = plain_alice.vector_stores.search(
        store.id, query="what is it?", rewrite_query=True
    )
    assert only_stop_words.search_query == ["what is it?"]  # nothing left: kept as given


def test_a_file_named_twice_is_added_once(
    plain_alice: openai.OpenAI, upstream: MockUpstream
) -> None:
    store = plain_alice.vector_stores.create(name="twice")
    file_id = _upload(plain_alice, "chess.json")
    upstream.reset()
    batch = plain_alice.vector_stores.file_batches.create_and_poll(
        vector_store_id=store.id,
        file_ids=[file_id, file_id],
        files=[{"file_id": file_id, "attributes": {"kind": "game"}}],
    )
    assert batch.status == "completed" and batch.file_counts.total == 1
    [only] = plain_alice.vector_stores.files.list(store.id).data
    assert only.attributes == {"kind": "game"}  # the last naming wins
    assert len([body for body in upstream.requests if "input" in body]) == 1  # embedded once
    created = create_and_poll(plain_alice, file_ids=[file_id] * 3)
    assert created.file_counts.total == 1


def test_the_file_limit_counts_distinct_files(plain_alice: openai.OpenAI) -> None:
    store = plain_alice.vector_stores.create(name="limit")
    file_id = _upload(plain_alice, "rivers.csv")
    same = plain_alice.vector_stores.file_batches.create_and_poll(
        vector_store_id=store.id, file_ids=[file_id] * 501
    )
    assert same.file_counts.total == 1
    with pytest.raises(openai.BadRequestError):
        plain_alice.vector_stores.file_batches.create(
            vector_store_id=store.id, file_ids=[f"file-{n}" for n in range(501)]
        )


def test_several_queries_are_embedded_in_one_call(
    plain_alice: openai.OpenAI, upstream: MockUpstream
) -> None:
    store = create_and_poll(plain_alice, file_ids=[_upload(plain_alice, "tides.html")])
    upstream.reset()
    plain_alice.vector_stores.search(store.id, query=["tides", "moon", "gravity of the sun"])
    embedding_calls = [body for body in upstream.requests if "input" in body]
    assert [call["input"] for call in embedding_calls] == [["tides", "moon", "gravity of the sun"]]
