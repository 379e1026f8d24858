"""The storage tests' throw-away PostgreSQL databases, for replica and readiness tests."""

from tests.storage.conftest import fresh_postgres_url

__all__ = ["fresh_postgres_url"]
