"""Loopback SearXNG and Tavily servers for the search tests, fresh for every test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio

from tests.support.search_servers import MockSearxng, MockTavily
from tests.support.servers import ServerThread


@pytest.fixture(scope="session")
def _searxng_server() -> Iterator[tuple[MockSearxng, str]]:
    mock = MockSearxng()
    with ServerThread(mock.app) as thread:
        yield mock, thread.url


@pytest.fixture(scope="session")
def _tavily_server() -> Iterator[tuple[MockTavily, str]]:
    mock = MockTavily()
    with ServerThread(mock.app) as thread:
        yield mock, thread.url


@pytest.fixture
def searxng(_searxng_server: tuple[MockSearxng, str]) -> MockSearxng:
    mock, url = _searxng_server
    mock.reset()
    mock.formats = ["html", "json"]
    mock.url = url
    return mock


@pytest.fixture
def tavily(_tavily_server: tuple[MockTavily, str]) -> MockTavily:
    mock, url = _tavily_server
    mock.reset()
    mock.ignore_domains = False
    mock.url = url
    return mock


@pytest_asyncio.fixture(loop_scope="function")  # the tests' own loop, not the session's
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client
