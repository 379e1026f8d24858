"""Alembic migrations: the same scripts on both backends, safe when replicas start at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from alembic import command
from sqlalchemy import Connection, text

from relaystack.store.migrate import alembic_config
from relaystack.store.runners import open_runner
from relaystack.store.sql import SqlStore

HEAD = "0005"
T = TypeVar("T")


async def _run(url: str, statement: str, **params: object) -> list[tuple[object, ...]]:
    def run(connection: Connection) -> list[tuple[object, ...]]:
        result = connection.execute(text(statement), params)
        return [tuple(row) for row in result] if result.returns_rows else []

    return await _in_transaction(url, run)


async def _upgrade(url: str, revision: str) -> None:
    await _in_transaction(url, lambda c: command.upgrade(alembic_config(c), revision))


async def _downgrade(url: str, revision: str) -> None:
    await _in_transaction(url, lambda c: command.downgrade(alembic_config(c), revision))


async def _in_transaction(url: str, work: Callable[[Connection], T]) -> T:
    runner = open_runner(url)
    try:
        return await runner.write(work)
    finally:
        await runner.close()


async def test_replicas_starting_together_migrate_once(empty_storage_url: str) -> None:
    # Eight stores opening one empty database at the same moment, each on its own
    # engine (as separate replicas would): on PostgreSQL they queue on the advisory
    # lock, and whoever comes second finds the schema already at head.
    # Without the lock PostgreSQL starters block each other for good, hence the timeout.
    stores = await asyncio.wait_for(
        asyncio.gather(*(SqlStore.open(empty_storage_url) for _ in range(8))), timeout=60
    )
    try:
        assert await _run(empty_storage_url, "SELECT version_num FROM alembic_version") == [(HEAD,)]
        conversation = {"id": "conv_m", "object": "conversation", "created_at": 1, "metadata": {}}
        await stores[0].create_conversation(conversation, [], "o")
        assert await stores[-1].get_conversation("conv_m", "o") == conversation
    finally:
        await asyncio.gather(*(store.close() for store in stores))


async def test_upgrade_from_0001_gives_existing_items_their_owner(empty_storage_url: str) -> None:
    await _upgrade(empty_storage_url, "0001")
    body = (
        '{"id":"resp_old","object":"response","created_at":1,"status":"completed",'
        '"model":"openai/gpt-4o","previous_response_id":null}'
    )
    item = '{"id":"msg_old","type":"message","role":"user","status":"completed","content":[]}'
    await _run(
        empty_storage_url,
        "INSERT INTO responses (id, owner, created_at, model, status, body) "
        "VALUES ('resp_old', 'carol', 1, 'openai/gpt-4o', 'completed', :body)",
        body=body,
    )
    await _run(
        empty_storage_url,
        "INSERT INTO response_items (response_id, kind, position, item_id, body) "
        "VALUES ('resp_old', 0, 0, 'msg_old', :item)",
        item=item,
    )

    store = await SqlStore.open(empty_storage_url)  # upgrades to head on start
    try:
        assert await _run(empty_storage_url, "SELECT owner FROM response_items") == [("carol",)]
        assert (await store.get_response("resp_old", "carol"))["id"] == "resp_old"
        chain = await store.chain("resp_old", "carol")
        assert chain is not None
        assert chain.response_ids == ["resp_old"]
        assert chain.items == [
            {
                "id": "msg_old",
                "type": "message",
                "role": "user",
                "status": "completed",
                "content": [],
            }
        ]
        assert await store.get_response("resp_old", "dave") is None
    finally:
        await store.close()


async def test_downgrade_and_upgrade_again(empty_storage_url: str) -> None:
    await _upgrade(empty_storage_url, "head")
    await _downgrade(empty_storage_url, "0001")
    assert await _run(empty_storage_url, "SELECT version_num FROM alembic_version") == [("0001",)]
    await _downgrade(empty_storage_url, "base")
    store = await SqlStore.open(empty_storage_url)
    await store.close()
    assert await _run(empty_storage_url, "SELECT version_num FROM alembic_version") == [(HEAD,)]


async def test_urls_with_or_without_a_driver_name_work(empty_storage_url: str) -> None:
    plain = empty_storage_url.replace("+asyncpg", "").replace("+aiosqlite", "")
    named = plain.replace("postgresql://", "postgresql+asyncpg://").replace(
        "sqlite://", "sqlite+aiosqlite://"
    )
    assert plain != named
    for url in (plain, named):
        store = await SqlStore.open(url)
        try:
            assert await store.get_conversation("conv_none", "o") is None
        finally:
            await store.close()
