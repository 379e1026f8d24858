"""Every test here runs against SQLite and PostgreSQL: ``storage_url`` is parametrized,
and the servers built on it are session-scoped per backend.

PostgreSQL is required (``.ci/run`` starts it); set RELAYSTACK_SKIP_POSTGRES=1 to run
only the SQLite half on a machine without it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from relaystack.app import build_app
from tests.support import postgres
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread
from tests.support.spec_transport import spec_checked_client
from tests.support.stack import stack_config

BACKENDS = ["sqlite", "postgres"]
ALICE_KEY, BOB_KEY = "sk-alice-0123456789", "sk-bob-9876543210"


def require_postgres() -> None:
    if postgres.available():
        return
    if os.environ.get("RELAYSTACK_SKIP_POSTGRES") == "1":
        pytest.skip("PostgreSQL is not reachable and RELAYSTACK_SKIP_POSTGRES=1")
    pytest.fail(f"PostgreSQL is not reachable at {postgres.ADMIN_DSN} (start it, see .ci/run)")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One fresh database for the whole session's PostgreSQL half."""
    require_postgres()
    name = postgres.create_database()
    yield postgres.storage_url(name)
    postgres.drop_database(name)


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """An empty database of its own, for tests about migrations and replicas."""
    require_postgres()
    name = postgres.create_database()
    yield postgres.storage_url(name)
    postgres.drop_database(name)


@pytest.fixture(params=BACKENDS)
def empty_storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database nothing has touched yet, on each backend."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("fresh_postgres_url")


@pytest.fixture(scope="session", params=BACKENDS)
def storage_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'relaystack.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def backend_server(upstream: MockUpstream, storage_url: str) -> Iterator[str]:
    """Auth off: everything belongs to the default owner."""
    with ServerThread(build_app(stack_config(upstream.base_url, storage_url))) as thread:
        yield f"{thread.url}/v1"


@pytest.fixture(scope="session")
def auth_server(
    upstream: MockUpstream, storage_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Auth on, on the same database: alice's key inline, bob's from a keys file."""
    keys_file = tmp_path_factory.mktemp("keys") / "keys.yaml"
    keys_file.write_text(f"- key: {BOB_KEY}\n  owner: bob\n", encoding="utf-8")
    auth = {"keys": [{"key": ALICE_KEY, "owner": "alice"}], "keys_file": str(keys_file)}
    config = stack_config(upstream.base_url, storage_url, auth=auth)
    with ServerThread(build_app(config)) as thread:
        yield f"{thread.url}/v1"


@pytest.fixture
def client(backend_server: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=backend_server,
        api_key="sk-unused",
        max_retries=0,
        http_client=spec_checked_client(),
    )


@pytest.fixture
def alice(auth_server: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=auth_server, api_key=ALICE_KEY, max_retries=0, http_client=spec_checked_client()
    )


@pytest.fixture
def bob(auth_server: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=auth_server, api_key=BOB_KEY, max_retries=0, http_client=spec_checked_client()
    )
