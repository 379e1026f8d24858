"""The Tavily backend against a loopback server speaking Tavily's search API."""

from __future__ import annotations

import logging

import httpx
import pytest
from httpx_aiohttp import AiohttpTransport

from relaystack.search import SearchError, SearchResult
from relaystack.search.tavily import TavilyBackend
from tests.support.search_servers import MockTavily
from tests.support.servers import free_port


def backend(tavily: MockTavily, http: httpx.AsyncClient, key: str | None = None) -> TavilyBackend:
    return TavilyBackend(
        http, key or tavily.api_key, base_url=tavily.url, key_source="TAVILY_API_KEY"
    )


async def test_the_request_is_tavilys_and_the_key_only_in_the_header(
    tavily: MockTavily, http: httpx.AsyncClient
) -> None:
    results = await backend(tavily, http).search("saturn rings", max_results=2)
    assert [r.url for r in results] == [
        "https://science.nasa.gov/saturn/rings/",
        "https://en.wikipedia.org/wiki/Rings_of_Saturn",
    ]
    assert results[0] == SearchResult(
        "https://science.nasa.gov/saturn/rings/",
        "Saturn's Rings - NASA Science",
        "Saturn's rings are made of billions of pieces of ice and rock.",
    )
    assert tavily.requests == [
        {"query": "saturn rings", "max_results": 2, "search_depth": "basic", "topic": "general"}
    ]
    assert tavily.headers[0]["authorization"] == f"Bearer {tavily.api_key}"
    assert tavily.headers[0]["content-type"] == "application/json"


async def test_context_size_high_asks_for_the_advanced_depth(
    tavily: MockTavily, http: httpx.AsyncClient
) -> None:
    await backend(tavily, http).search("saturn", max_results=50, context_size="high")
    assert tavily.requests[0]["search_depth"] == "advanced"
    assert tavily.requests[0]["max_results"] == 20  # Tavily's limit


async def test_allowed_domains_go_in_include_domains(
    tavily: MockTavily, http: httpx.AsyncClient
) -> None:
    results = await backend(tavily, http).search(
        "saturn rings", max_results=5, allowed_domains=["nasa.gov", "esa.int"]
    )
    assert tavily.requests[0]["include_domains"] == ["nasa.gov", "esa.int"]
    assert [r.url for r in results] == [
        "https://science.nasa.gov/saturn/rings/",
        "https://www.esa.int/Science_Exploration/Cassini",
    ]


async def test_results_outside_allowed_domains_are_dropped_even_if_the_api_sends_them(
    tavily: MockTavily, http: httpx.AsyncClient
) -> None:
    tavily.ignore_domains = True
    results = await backend(tavily, http).search(
        "saturn", max_results=5, allowed_domains=["nasa.gov"]
    )
    # nasa.gov.example.net came back too: a look-alike, not a subdomain of nasa.gov
    assert [r.url for r in results] == ["https://science.nasa.gov/saturn/rings/"]


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_key_says_so_and_where_it_is_set_but_not_the_key(
    tavily: MockTavily, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "tvly-wrong-key-987"
    if status == 403:
        tavily.answer_next(403, {"detail": {"error": "Forbidden."}})
    with pytest.raises(SearchError) as caught:
        await backend(tavily, http, key=wrong).search("saturn", max_results=3)
    error = caught.value
    assert (error.status_code, error.code) == (502, "search_backend_auth")
    assert error.message == (
        f"The Tavily search backend refused the configured API key (HTTP {status}); "
        "check TAVILY_API_KEY."
    )
    assert wrong not in caplog.text and wrong not in repr(backend(tavily, http, key=wrong))


async def test_a_rate_limit_is_a_429_with_tavilys_words(
    tavily: MockTavily, http: httpx.AsyncClient
) -> None:
    tavily.answer_next(429, {"detail": {"error": "Rate limit exceeded: 100 requests per minute."}})
    with pytest.raises(SearchError) as caught:
        await backend(tavily, http).search("saturn", max_results=3)
    assert caught.value.status_code == 429
    assert caught.value.message == (
        "The Tavily search backend is rate limiting requests: "
        "Rate limit exceeded: 100 requests per minute."
    )


async def test_a_spent_plan_is_a_502_naming_the_limit(
    tavily: MockTavily, http: httpx.AsyncClient
) -> None:
    tavily.answer_next(
        432, {"detail": {"error": "This request exceeds your plan's set usage limit."}}
    )
    with pytest.raises(SearchError) as caught:
        await backend(tavily, http).search("saturn", max_results=3)
    assert caught.value.status_code == 502
    assert "HTTP 432: the account's usage limit is reached: This request exceeds" in (
        caught.value.message
    )


async def test_malformed_json_is_a_502(tavily: MockTavily, http: httpx.AsyncClient) -> None:
    tavily.answer_next(200, b'{"results": [', "application/json")
    with pytest.raises(SearchError) as caught:
        await backend(tavily, http).search("saturn", max_results=3)
    assert (caught.value.status_code, caught.value.code) == (502, "search_backend_bad_response")


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_a_slow_api_is_a_504(tavily: MockTavily, transport: str) -> None:
    tavily.delay = 1.0
    inner = AiohttpTransport() if transport == "aiohttp" else httpx.AsyncHTTPTransport()
    async with httpx.AsyncClient(transport=inner) as client:
        slow = TavilyBackend(client, tavily.api_key, base_url=tavily.url, timeout=0.2)
        with pytest.raises(SearchError) as caught:
            await slow.search("saturn", max_results=3)
    assert (caught.value.status_code, caught.value.code) == (504, "search_backend_timeout")
    assert caught.value.message.endswith("did not answer within 0.2 s.")


async def test_an_api_that_is_down_is_unreachable(http: httpx.AsyncClient) -> None:
    down = TavilyBackend(http, "tvly-x", base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(SearchError) as caught:
        await down.search("saturn", max_results=3)
    assert (caught.value.status_code, caught.value.code) == (502, "search_backend_unreachable")
