"""Throw-away PostgreSQL databases for the storage tests (user postgres on loopback).

Each test session (and each test that needs an empty database) gets a database with a
random name, created here and dropped afterwards, so runs never see each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import secrets

import asyncpg

# The maintenance database we connect to in order to create and drop the others.
ADMIN_DSN = os.environ.get(
    "RELAYSTACK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _server_part() -> str:
    return ADMIN_DSN.removeprefix("postgresql://").rsplit("/", 1)[0]


def storage_url(name: str) -> str:
    return f"postgresql+asyncpg://{_server_part()}/{name}"


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_DSN, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def available() -> bool:
    try:
        asyncio.run(_admin("SELECT 1"))
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    return True


def create_database() -> str:
    name = f"relaystack_test_{secrets.token_hex(6)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return name


def drop_database(name: str) -> None:
    # FORCE: a server thread's pool may still hold idle connections.
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
