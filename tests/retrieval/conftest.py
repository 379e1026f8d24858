"""Servers for the Files and Vector stores tests, on SQLite and on PostgreSQL.

Each backend gets a server with two API keys (alice, bob), the mock upstream for chat
and the embedded local provider for embeddings (multilingual-e5-small, shipped in a
package, so ingestion and search run offline with a real model); and a second one that
embeds with the mock upstream, for tests where meaning does not matter.
"""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from relaystack.app import build_app
from relaystack.config import parse_config
from tests.storage.conftest import postgres_url, storage_url  # noqa: F401  (fixtures)
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread
from tests.support.stack import stack_settings

ALICE_KEY, BOB_KEY = "sk-alice-files-0123456789", "sk-bob-files-9876543210"
MAX_BYTES = 256 * 1024


def retrieval_settings(upstream_url: str, storage: str, **files: object) -> dict:
    settings = stack_settings(
        upstream_url,
        storage,
        auth={"keys": [{"key": ALICE_KEY, "owner": "alice"}, {"key": BOB_KEY, "owner": "bob"}]},
        files={"max_bytes": MAX_BYTES, **files},
    )
    settings["providers"].append({"id": "local", "type": "local"})
    return settings


@pytest.fixture(scope="session")
def files_server(upstream: MockUpstream, storage_url: str) -> Iterator[str]:  # noqa: F811
    config = parse_config(retrieval_settings(upstream.base_url, storage_url))
    with ServerThread(build_app(config)) as thread:
        yield f"{thread.url}/v1"


@pytest.fixture(scope="session")
def plain_server(upstream: MockUpstream, storage_url: str) -> Iterator[str]:  # noqa: F811
    """Embeddings from the mock upstream (meaningless but instant vectors): for tests of
    the APIs' mechanics, where the embedded model's seconds per search buy nothing."""
    settings = retrieval_settings(
        upstream.base_url, storage_url, embedding_model="openai/mock-model"
    )
    with ServerThread(build_app(parse_config(settings))) as thread:
        yield f"{thread.url}/v1"


@pytest.fixture
def plain_alice(plain_server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=plain_server, api_key=ALICE_KEY, max_retries=0)


@pytest.fixture
def plain_bob(plain_server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=plain_server, api_key=BOB_KEY, max_retries=0)


@pytest.fixture
def alice(files_server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=files_server, api_key=ALICE_KEY, max_retries=0)


@pytest.fixture
def bob(files_server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=files_server, api_key=BOB_KEY, max_retries=0)
