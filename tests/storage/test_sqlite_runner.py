"""The SQLite runner's writer thread: batches, isolates failures, outlives its callers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from relaystack.store.runners import SqliteRunner


def _create(connection: Connection) -> None:
    connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))


def _insert(connection: Connection, row_id: int) -> int:
    connection.execute(text("INSERT INTO t (id, v) VALUES (:id, 'x')"), {"id": row_id})
    return row_id


def _count(connection: Connection) -> int:
    return connection.scalar(text("SELECT count(*) FROM t"))


def _slow_insert(connection: Connection, row_id: int) -> int:
    time.sleep(0.3)
    return _insert(connection, row_id)


async def test_concurrent_writes_each_commit_or_fail_alone(tmp_path: Path) -> None:
    runner = SqliteRunner(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        await runner.write(_create)
        # Row 7 twice: the second violates the primary key; its neighbours in the same
        # batch must not be rolled back with it.
        ids = [1, 2, 3, 7, 7, 8, 9]
        results = await asyncio.gather(
            *(runner.write(_insert, row_id) for row_id in ids), return_exceptions=True
        )
        failures = [result for result in results if isinstance(result, Exception)]
        assert len(failures) == 1
        assert "UNIQUE" in str(failures[0])
        assert await runner.read(_count) == 6
    finally:
        await runner.close()


def test_the_writer_outlives_a_caller_whose_event_loop_closed(tmp_path: Path) -> None:
    runner = SqliteRunner(f"sqlite:///{tmp_path / 'db.sqlite'}")

    async def leave_before_the_write_finishes() -> None:
        await runner.write(_create)
        abandoned = asyncio.ensure_future(runner.write(_slow_insert, 1))
        await asyncio.sleep(0.05)  # asyncio.run then cancels it and closes this loop
        assert not abandoned.done()

    asyncio.run(leave_before_the_write_finishes())

    async def later() -> int:
        try:
            await runner.write(_insert, 2)
            return await runner.read(_count)
        finally:
            await runner.close()

    # Both rows: the abandoned write still committed, and the writer kept going.
    assert asyncio.run(asyncio.wait_for(later(), timeout=10)) == 2


async def test_a_failing_read_is_raised_to_its_caller(tmp_path: Path) -> None:
    runner = SqliteRunner(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with pytest.raises(Exception, match="no such table"):
            await runner.read(_count)
    finally:
        await runner.close()


async def test_an_in_memory_database_keeps_its_rows_across_reads_and_writes() -> None:
    # One connection holds an in-memory database: reads must see what writes wrote.
    runner = SqliteRunner("sqlite:///:memory:")
    try:
        await runner.write(_create)
        await asyncio.gather(*(runner.write(_insert, row_id) for row_id in range(5)))
        assert await runner.read(_count) == 5
    finally:
        await runner.close()
