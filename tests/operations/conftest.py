"""The storage tests' throw-away databases (SQLite and PostgreSQL), for the usage,
limits, replica and readiness tests."""

from tests.storage.conftest import empty_storage_url, fresh_postgres_url

__all__ = ["empty_storage_url", "fresh_postgres_url"]
