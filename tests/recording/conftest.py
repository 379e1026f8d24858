"""Fixtures for the recording tests (named apart from the suite-wide ``upstream``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.recording.helpers import FIXTURES, MockUpstream


@pytest.fixture
def rec_upstream() -> Iterator[MockUpstream]:
    server = MockUpstream()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fixture_files() -> list[Path]:
    files = sorted(FIXTURES.glob("*.json"))
    assert len(files) == 2, f"expected the two seed recordings in {FIXTURES}"
    return files
