"""SQLite under concurrent load in one process: 32 clients, every write stored, no
"database is locked". Bounded and loopback only; no timing assertions."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai

from relaystack.app import build_app
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread
from tests.support.stack import stack_config

CLIENTS = 32
TURNS = 4


def test_32_concurrent_clients_store_everything(upstream: MockUpstream, tmp_path: Path) -> None:
    config = stack_config(upstream.base_url, f"sqlite+aiosqlite:///{tmp_path / 'load.db'}")
    with ServerThread(build_app(config)) as thread:
        base_url = f"{thread.url}/v1"
        shared = openai.OpenAI(base_url=base_url, api_key="sk-unused", max_retries=0)
        conversation = shared.conversations.create()

        def client_session(number: int) -> list[str]:
            # No retries: any error, "database is locked" included, fails the test.
            client = openai.OpenAI(base_url=base_url, api_key="sk-unused", max_retries=0)
            created: list[str] = []
            previous: str | None = None
            for turn in range(TURNS):
                response = client.responses.create(
                    model="openai/gpt-4o",
                    input=f"client {number} turn {turn}",
                    previous_response_id=previous,
                )
                assert response.status == "completed"
                created.append(response.id)
                previous = response.id
            # Everyone also writes to one conversation at once.
            client.responses.create(
                model="openai/gpt-4o", input=f"client {number}", conversation=conversation.id
            )
            client.conversations.items.create(
                conversation.id, items=[{"role": "user", "content": f"note {number}"}]
            )
            return created

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            created = [rid for ids in pool.map(client_session, range(CLIENTS)) for rid in ids]

        assert len(set(created)) == CLIENTS * TURNS
        for response_id in created[:: TURNS + 1]:
            assert shared.responses.retrieve(response_id).status == "completed"
        last = shared.responses.retrieve(created[-1])
        assert last.previous_response_id == created[-2]
        items = list(shared.conversations.items.list(conversation.id, order="asc", limit=100))
        assert len(items) == CLIENTS * 3  # input + output of each turn, plus each note
        assert len({item.id for item in items}) == len(items)
