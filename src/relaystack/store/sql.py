"""The ``Store`` on SQLAlchemy's async engine: SQLite (aiosqlite) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from relaystack import jsonutil
from relaystack.store.base import Item, Order, Page
from relaystack.store.conversations_sql import SqlConversations, append_items
from relaystack.store.migrate import upgrade_to_head
from relaystack.store.schema import INPUT_ITEM, OUTPUT_ITEM, response_items, responses

# Walks previous_response_id links from one response back to the first of its chain;
# one indexed lookup per turn, then one read of every item in chain order.
_CHAIN_ITEMS = text(
    """
    WITH RECURSIVE chain(id, previous_response_id, depth) AS (
        SELECT id, previous_response_id, 0 FROM responses WHERE id = :id AND owner = :owner
        UNION ALL
        SELECT r.id, r.previous_response_id, chain.depth + 1
        FROM responses r JOIN chain ON r.id = chain.previous_response_id
        WHERE r.owner = :owner
    )
    SELECT i.body FROM chain JOIN response_items i ON i.response_id = chain.id
    ORDER BY chain.depth DESC, i.kind, i.position
    """
)


# Plain driver-less URLs name the async driver we ship, so both spellings work.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def normalize_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{_ASYNC_DRIVERS.get(scheme, scheme)}{sep}{rest}"


def create_engine(url: str) -> AsyncEngine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers proceed while one writer commits; NORMAL sync is safe in WAL.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


class SqlStore(SqlConversations):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # SQLite allows one writer at a time; queueing writers here instead of in
        # SQLite's busy loop keeps latency flat and "database is locked" impossible.
        self._write_lock: asyncio.Lock | None = (
            asyncio.Lock() if engine.dialect.name == "sqlite" else None
        )

    @classmethod
    async def open(cls, url: str) -> SqlStore:
        engine = create_engine(url)
        await upgrade_to_head(engine)
        return cls(engine)

    async def close(self) -> None:
        await self._engine.dispose()

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        lock = self._write_lock or contextlib.nullcontext()
        async with lock, self._engine.begin() as connection:
            yield connection

    # ----- responses -------------------------------------------------------------

    async def save_response(
        self,
        response: dict[str, Any],
        input_items: list[Item],
        owner: str,
        *,
        conversation_id: str | None = None,
    ) -> None:
        body = {key: value for key, value in response.items() if key != "output"}
        rows = [
            _item_row(response["id"], INPUT_ITEM, position, item, owner)
            for position, item in enumerate(input_items)
        ]
        rows += [
            _item_row(response["id"], OUTPUT_ITEM, position, item, owner)
            for position, item in enumerate(response["output"])
        ]
        async with self._writing() as connection:
            if conversation_id is not None:
                # First, so a vanished conversation fails before anything is written,
                # and so the conversation's row lock is taken at one predictable point.
                await append_items(
                    connection, conversation_id, owner, [*input_items, *response["output"]]
                )
            await connection.execute(
                responses.insert().values(
                    id=response["id"],
                    owner=owner,
                    created_at=response["created_at"],
                    model=response["model"],
                    status=response["status"],
                    previous_response_id=response.get("previous_response_id"),
                    body=jsonutil.dumps_str(body),
                )
            )
            if rows:
                await connection.execute(response_items.insert(), rows)

    async def get_response(self, response_id: str, owner: str) -> dict[str, Any] | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(responses.c.body).where(
                        responses.c.id == response_id, responses.c.owner == owner
                    )
                )
            ).first()
            if row is None:
                return None
            output = await connection.execute(
                select(response_items.c.body)
                .where(
                    response_items.c.response_id == response_id,
                    response_items.c.kind == OUTPUT_ITEM,
                )
                .order_by(response_items.c.position)
            )
            return _with_output(row.body, [item for (item,) in output])

    async def delete_response(self, response_id: str, owner: str) -> bool:
        async with self._writing() as connection:
            deleted = await connection.execute(
                responses.delete().where(responses.c.id == response_id, responses.c.owner == owner)
            )
            if deleted.rowcount == 0:
                return False
            await connection.execute(
                response_items.delete().where(response_items.c.response_id == response_id)
            )
            return True

    async def list_responses(
        self, owner: str, *, after: str | None, limit: int, order: Order, model: str | None
    ) -> Page:
        query = select(responses.c.id, responses.c.body).where(responses.c.owner == owner)
        if model is not None:
            query = query.where(responses.c.model == model)
        async with self._engine.connect() as connection:
            if after is not None:
                cursor = _pk_of(responses.c.id == after, responses.c.owner == owner)
                query = query.where(
                    responses.c.pk > cursor if order == "asc" else responses.c.pk < cursor
                )
            query = query.order_by(
                responses.c.pk.asc() if order == "asc" else responses.c.pk.desc()
            ).limit(limit + 1)
            rows = (await connection.execute(query)).all()
            page = rows[:limit]
            outputs = await self._outputs(connection, [row.id for row in page])
        data = [_with_output(row.body, outputs.get(row.id, [])) for row in page]
        return Page(data=data, has_more=len(rows) > limit)

    async def _outputs(
        self, connection: AsyncConnection, response_ids: list[str]
    ) -> dict[str, list[str]]:
        if not response_ids:
            return {}
        rows = await connection.execute(
            select(response_items.c.response_id, response_items.c.body)
            .where(
                response_items.c.response_id.in_(response_ids),
                response_items.c.kind == OUTPUT_ITEM,
            )
            .order_by(response_items.c.response_id, response_items.c.position)
        )
        outputs: dict[str, list[str]] = {}
        for response_id, body in rows:
            outputs.setdefault(response_id, []).append(body)
        return outputs

    async def list_input_items(
        self,
        response_id: str,
        owner: str,
        *,
        after: str | None,
        before: str | None,
        limit: int,
        order: Order,
    ) -> Page | None:
        async with self._engine.connect() as connection:
            exists = await connection.scalar(
                select(func.count())
                .select_from(responses)
                .where(responses.c.id == response_id, responses.c.owner == owner)
            )
            if not exists:
                return None
            of_response = (
                response_items.c.response_id == response_id,
                response_items.c.kind == INPUT_ITEM,
            )
            query = select(response_items.c.body).where(*of_response)
            position = response_items.c.position
            for cursor_id, later in ((after, True), (before, False)):
                if cursor_id is None:
                    continue
                cursor = (
                    select(position)
                    .where(*of_response, response_items.c.item_id == cursor_id)
                    .scalar_subquery()
                )
                # "after" follows the listing order; in descending order that is backwards.
                forward = later == (order == "asc")
                query = query.where(position > cursor if forward else position < cursor)
            query = query.order_by(position.asc() if order == "asc" else position.desc())
            rows = (await connection.execute(query.limit(limit + 1))).all()
        data = [jsonutil.loads(body) for (body,) in rows[:limit]]
        return Page(data=data, has_more=len(rows) > limit)

    async def chain_items(self, response_id: str, owner: str) -> list[Item] | None:
        async with self._engine.connect() as connection:
            rows = (
                await connection.execute(_CHAIN_ITEMS, {"id": response_id, "owner": owner})
            ).all()
            if not rows:
                exists = await connection.scalar(
                    select(func.count())
                    .select_from(responses)
                    .where(responses.c.id == response_id, responses.c.owner == owner)
                )
                if not exists:
                    return None
        return [jsonutil.loads(body) for (body,) in rows]


def _item_row(response_id: str, kind: int, position: int, item: Item, owner: str) -> dict[str, Any]:
    return {
        "response_id": response_id,
        "owner": owner,
        "kind": kind,
        "position": position,
        "item_id": item["id"],
        "body": jsonutil.dumps_str(item),
    }


def _pk_of(*conditions: Any) -> Any:
    return select(responses.c.pk).where(*conditions).scalar_subquery()


def _with_output(body: str, output: list[str]) -> dict[str, Any]:
    response = jsonutil.loads(body)
    response["output"] = [jsonutil.loads(item) for item in output]
    return response
