"""Bring a database to the newest schema at start-up (Alembic, run in-process)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, text

_MIGRATIONS = Path(__file__).with_name("migrations")
# Any fixed number: replicas starting together queue on this PostgreSQL advisory lock
# so exactly one of them runs each migration.
_MIGRATION_LOCK_ID = 0x72656C6179


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection) -> None:
    """Migrate to head inside the caller's transaction (run it through a runner)."""
    if connection.dialect.name == "postgresql":
        # Waiting for another replica's migration may take longer than any statement
        # timeout allows; so may the migration itself.
        connection.execute(text("SET LOCAL statement_timeout = 0"))
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})"))
    elif connection.dialect.name == "sqlite":
        # The sqlite3 driver opens no transaction before DDL, so without this each
        # CREATE would commit alone and two starters on one file would race. BEGIN
        # IMMEDIATE takes SQLite's write lock now: the second starter waits (busy
        # timeout), then finds the schema at head; a failed migration rolls back whole.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    command.upgrade(alembic_config(connection), "head")
