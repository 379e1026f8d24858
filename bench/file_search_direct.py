"""The file-search cells: their vector store, and their direct baseline.

``create_store`` fills relaystack with the cells' vector store (``DOCUMENTS``, the
standard library's docstrings in 20 files, uploaded and ingested, embedded by the
mock), once per run. A ``responses-file-search`` request
then asks relaystack for a stored turn offering ``file_search`` on it: the mock calls
``file_search``, relaystack embeds the query (the mock's ``/v1/embeddings``), searches
the store (hybrid: vectors and keywords), and asks the mock again with the results.

The direct baseline (``FileSearchTurn``, workload ``file-search-direct``) does the
upstream part of that turn itself: the mock's tool-call stream, the query's embedding
from the mock, and the mock's text stream given a tool result of the same shape
(``MAX_RESULTS`` numbered chunks of up to 2,000 characters). It cannot search without
relaystack, so the search is part of what relaystack adds: the floor is the upstream
calls and the embedding, as the target is stated.
"""

from __future__ import annotations

import time

import httpx
import orjson

from bench.httpclient import Connection, Result, build_request
from bench.mock_payloads import FILE_SEARCH_CALL, FILE_SEARCH_QUERY
from bench.retrieval_set import build_set
from bench.workloads import PROMPT, tool_chat

MAX_RESULTS = 5  # max_num_results of the cells' file_search tool
CHARS_PER_RESULT = 2000  # what relaystack gives the model of each chunk
API_KEY = "sk-bench"  # the load generator's key: the store must be the same owner's

FILES = 20


def _documents() -> list[str]:
    """Real prose: the standard library's docstrings (``bench.retrieval_set``), dealt
    into ``FILES`` documents of about 10 KB (a few chunks of the default size each)."""
    bodies = [example.document for example in build_set()]
    return ["\n\n".join(bodies[index::FILES]) for index in range(FILES)]


DOCUMENTS = _documents()

FILE_SEARCH_FUNCTION = {
    "type": "function",
    "function": {
        "name": "file_search",
        "description": "Search the user's uploaded files for passages relevant to a query.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}},
            "required": ["query"],
        },
    },
}


def file_search_tools(vector_store_id: str) -> dict[str, object]:
    """The request fields of a file-search cell."""
    tool = {
        "type": "file_search",
        "vector_store_ids": [vector_store_id],
        "max_num_results": MAX_RESULTS,
    }
    return {"tools": [tool]}


def create_store(server_url: str, timeout: float = 120.0) -> str:
    """Upload ``DOCUMENTS`` to relaystack, put them in a new vector store, wait for it."""
    headers = {"authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=server_url.rstrip("/") + "/v1", headers=headers) as client:
        file_ids = []
        for index, text in enumerate(DOCUMENTS):
            files = {"file": (f"doc-{index}.txt", text.encode(), "text/plain")}
            answer = client.post("/files", files=files, data={"purpose": "assistants"})
            answer.raise_for_status()
            file_ids.append(answer.json()["id"])
        answer = client.post("/vector_stores", json={"name": "bench", "file_ids": file_ids})
        answer.raise_for_status()
        store = answer.json()
        deadline = time.monotonic() + timeout
        while store["file_counts"]["in_progress"] and time.monotonic() < deadline:
            time.sleep(0.2)
            store = client.get(f"/vector_stores/{store['id']}").json()
        counts = store["file_counts"]
        if counts["completed"] != len(DOCUMENTS):
            raise RuntimeError(f"the bench's vector store did not fill: {counts}")
        return str(store["id"])


def _results_text() -> str:
    """A tool result shaped as relaystack's (``results_text``): numbered chunks."""
    header = (
        f'File search results for "{FILE_SEARCH_QUERY}". '
        "Cite a result by its number in brackets, e.g. [1]."
    )
    blocks = [
        f"[{number}] doc-{number}.txt\n{DOCUMENTS[number][:CHARS_PER_RESULT]}"
        for number in range(1, MAX_RESULTS + 1)
    ]
    return "\n\n".join([header, *blocks])


class FileSearchTurn:
    """One connection's direct file-search turns: two chat streams and an embedding."""

    def __init__(
        self, conn: Connection, host: str, port: int, prefix: str, model: str, embed_model: str
    ) -> None:
        self._conn = conn
        path = prefix + "/chat/completions"
        user = {"role": "user", "content": PROMPT}
        self._ask = build_request(
            "POST", host, port, path, tool_chat(model, [user], FILE_SEARCH_FUNCTION)
        )
        embed = {"model": embed_model, "input": [FILE_SEARCH_QUERY], "encoding_format": "float"}
        self._embed = build_request("POST", host, port, prefix + "/embeddings", orjson.dumps(embed))
        called = {"role": "assistant", "content": None, "tool_calls": [FILE_SEARCH_CALL]}
        result = {
            "role": "tool",
            "tool_call_id": FILE_SEARCH_CALL["id"],
            "content": _results_text(),
        }
        self._answer = build_request(
            "POST", host, port, path, tool_chat(model, [user, called, result], FILE_SEARCH_FUNCTION)
        )

    async def run(self, marker: bytes, timeout: float) -> Result:
        first = await self._conn.request(self._ask, b"", timeout)
        if b"file_search" not in first.body:
            raise RuntimeError(f"the mock did not call file_search: {first.body[:200]!r}")
        embedded = await self._conn.request(self._embed, b"", timeout)
        if embedded.status != 200 or b'"embedding"' not in embedded.body:
            raise RuntimeError(f"the mock did not embed: {embedded.body[:200]!r}")
        last = await self._conn.request(self._answer, marker, timeout)
        last.t_start = first.t_start
        return last
