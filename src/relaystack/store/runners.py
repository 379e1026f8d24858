"""How store code reaches the database.

Queries are written once, as plain functions of a SQLAlchemy ``Connection``. A runner
decides where they execute:

* SQLite: in threads, on the stdlib driver. One writer thread takes every write in
  arrival order (SQLite has one writer anyway), and runs all writes that queued up
  meanwhile in one hop, so a burst costs one thread switch instead of one per
  statement (that per-statement hop was most of a stored turn's cost on aiosqlite).
  Readers use a small pool of their own, so reads never wait behind writes (WAL).
* PostgreSQL: on the async engine (asyncpg), through ``run_sync``'s greenlet bridge,
  so each statement awaits the network without a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from relaystack.store.availability import unavailable_error, unreachable

T = TypeVar("T")
Work = Callable[..., T]

# Every spelling a user may give maps to the driver we run it with.
_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+aiosqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


class Runner(Protocol):
    dialect: str

    async def read(self, work: Work[T], *args: Any) -> T: ...

    async def write(self, work: Work[T], *args: Any) -> T:
        """Run ``work`` in its own transaction: all of it commits, or none of it."""

    async def close(self) -> None: ...


def normalize_url(url: str) -> str:
    scheme, separator, rest = url.partition("://")
    if scheme not in _DRIVERS:
        raise ValueError(
            f"unsupported storage url scheme {scheme!r}: use sqlite:///PATH or "
            "postgresql://USER@HOST/DB"
        )
    return f"{_DRIVERS[scheme]}{separator}{rest}"


@dataclass(frozen=True)
class PostgresSettings:
    """Connections per process, and how long one statement may run (0: no limit)."""

    pool_size: int = 10
    max_overflow: int = 10
    statement_timeout: float = 30.0


def open_runner(url: str, postgres: PostgresSettings | None = None) -> Runner:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        return SqliteRunner(url)
    settings = postgres or PostgresSettings()
    timeout_ms = str(round(settings.statement_timeout * 1000))
    return AsyncEngineRunner(
        create_async_engine(
            url,
            pool_size=settings.pool_size,
            max_overflow=settings.max_overflow,
            pool_pre_ping=True,
            # A database error must not print the rows' contents (texts, metadata).
            hide_parameters=True,
            connect_args={"server_settings": {"statement_timeout": timeout_ms}},
        )
    )


class AsyncEngineRunner:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    async def read(self, work: Work[T], *args: Any) -> T:
        with _unreachable_as_unavailable():
            async with self.engine.connect() as connection:
                return await connection.run_sync(work, *args)

    async def write(self, work: Work[T], *args: Any) -> T:
        with _unreachable_as_unavailable():
            async with self.engine.begin() as connection:
                return await connection.run_sync(work, *args)

    async def close(self) -> None:
        await self.engine.dispose()


@contextlib.contextmanager
def _unreachable_as_unavailable() -> Iterator[None]:
    """A database that cannot be reached is a 503 (``availability.py``)."""
    try:
        yield
    except Exception as exc:
        if unreachable(exc):
            raise unavailable_error(exc) from exc
        raise


_Job = tuple[Work[Any], tuple[Any, ...], asyncio.Future[Any], asyncio.AbstractEventLoop]
_Outcome = tuple[asyncio.Future[Any], asyncio.AbstractEventLoop, Any, BaseException | None]


class SqliteRunner:
    dialect = "sqlite"

    def __init__(self, url: str, readers: int = 2) -> None:
        database = make_url(url).database
        # An in-memory database lives in one connection: everything then goes through
        # the writer thread, which owns it.
        self._in_memory = not database or database == ":memory:"
        if not self._in_memory:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self.engine = _sqlite_engine(url, pool_size=readers + 1, in_memory=self._in_memory)
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="relaystack-sqlite-read")
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer = threading.Thread(
            target=self._write_loop, name="relaystack-sqlite-write", daemon=True
        )
        self._writer.start()

    async def read(self, work: Work[T], *args: Any) -> T:
        if self._in_memory:
            return await self.write(work, *args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._read_now, work, args)

    def _read_now(self, work: Work[T], args: tuple[Any, ...]) -> T:
        with self.engine.connect() as connection:
            return work(connection, *args)

    async def write(self, work: Work[T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((work, args, future, loop))
        # Shielded: once queued the write happens, so a caller that is cancelled
        # (a client gone) must not make us report it as not done.
        return await asyncio.shield(future)

    def _write_loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            batch = [job]
            while not self._jobs.empty():
                queued = self._jobs.get_nowait()
                if queued is None:
                    self._run_batch(batch)
                    return
                batch.append(queued)
            self._run_batch(batch)

    def _run_batch(self, batch: list[_Job]) -> None:
        woken = 0
        try:
            with self.engine.connect() as connection:
                outcomes = [_run_job(connection, job) for job in batch]
                # Woken before the connection goes back to the pool: its reset there (a
                # rollback) is no reason for a caller to wait.
                _wake(outcomes)
                woken = len(batch)
        except Exception as exc:  # no connection at all: every job not told yet hears why
            _wake([(future, loop, None, exc) for _w, _a, future, loop in batch[woken:]])

    async def close(self) -> None:
        self._jobs.put(None)
        await asyncio.to_thread(self._writer.join)
        self._readers.shutdown(wait=True)
        self.engine.dispose()


def _run_job(connection: Connection, job: _Job) -> _Outcome:
    """One job in its own transaction: what it returned, or what it raised."""
    work, args, future, loop = job
    try:
        with connection.begin():
            return future, loop, work(connection, *args), None
    except Exception as exc:
        return future, loop, None, exc


def _wake(outcomes: list[_Outcome]) -> None:
    """One wake-up of each waiting event loop for all of its outcomes."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[1], []).append(outcome)
    for loop, settled in by_loop.items():
        # A loop that has closed meanwhile has nobody waiting; the writer goes on.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, settled)


def _settle(outcomes: list[_Outcome]) -> None:
    for future, _loop, result, error in outcomes:
        if future.cancelled():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


def _sqlite_engine(url: str, pool_size: int, in_memory: bool) -> Engine:
    # Connections move between our threads, one thread at a time.
    connect_args = {"check_same_thread": False, "timeout": 30}
    if in_memory:
        engine = create_engine(
            url, poolclass=StaticPool, connect_args=connect_args, hide_parameters=True
        )
    else:
        engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=0,
            connect_args=connect_args,
            hide_parameters=True,
        )

    @event.listens_for(engine, "connect")
    def _tune(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers proceed while one writer commits; NORMAL sync is safe in WAL.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine
