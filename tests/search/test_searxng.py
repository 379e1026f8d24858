"""The SearXNG backend against a loopback server speaking SearXNG's JSON API."""

from __future__ import annotations

import base64

import httpx
import pytest
from httpx_aiohttp import AiohttpTransport

from relaystack.search import SearchError, SearchResult
from relaystack.search.searxng import SearxngBackend
from tests.support.search_servers import MockSearxng
from tests.support.servers import free_port


async def test_results_come_back_with_url_title_and_content(
    searxng: MockSearxng, http: httpx.AsyncClient
) -> None:
    backend = SearxngBackend(http, searxng.url, categories=["general"], language="en-US")
    results = await backend.search("saturn rings", max_results=2)
    assert results == [
        SearchResult(
            "https://science.nasa.gov/saturn/rings/",
            "Saturn's Rings - NASA Science",
            "Saturn's rings are made of billions of pieces of ice and rock.",
        ),
        SearchResult(
            "https://en.wikipedia.org/wiki/Rings_of_Saturn",
            "Rings of Saturn - Wikipedia",
            "The rings of Saturn are the most extensive ring system of any planet.",
        ),
    ]
    (sent,) = searxng.requests
    assert sent == {
        "method": "POST",
        "q": "saturn rings",
        "format": "json",
        "categories": "general",
        "language": "en-US",
    }


async def test_one_allowed_domain_is_asked_with_site_and_subdomains_count(
    searxng: MockSearxng, http: httpx.AsyncClient
) -> None:
    backend = SearxngBackend(http, searxng.url)
    results = await backend.search("saturn", max_results=5, allowed_domains=["nasa.gov"])
    assert searxng.requests[0]["q"] == "saturn site:nasa.gov"
    assert [r.url for r in results] == ["https://science.nasa.gov/saturn/rings/"]


async def test_several_allowed_domains_filter_the_results(
    searxng: MockSearxng, http: httpx.AsyncClient
) -> None:
    backend = SearxngBackend(http, searxng.url)
    results = await backend.search(
        "saturn rings", max_results=10, allowed_domains=["nasa.gov", "wikipedia.org"]
    )
    assert searxng.requests[0]["q"] == "saturn rings"  # no operator for several domains
    # nasa.gov.example.net and esa.int were found but are not inside the allowed domains
    assert [r.url for r in results] == [
        "https://science.nasa.gov/saturn/rings/",
        "https://en.wikipedia.org/wiki/Rings_of_Saturn",
    ]


async def test_entries_without_url_are_skipped_and_missing_titles_use_the_url(
    searxng: MockSearxng, http: httpx.AsyncClient
) -> None:
    searxng.answer_next(
        200,
        {
            "query": "x",
            "results": [
                {"title": "an infobox", "content": "no url"},
                {"url": "https://example.com/a", "content": "text"},
            ],
        },
    )
    results = await SearxngBackend(http, searxng.url).search("x", max_results=5)
    assert results == [SearchResult("https://example.com/a", "https://example.com/a", "text")]


async def test_json_disabled_is_a_502_that_says_how_to_enable_it(
    searxng: MockSearxng, http: httpx.AsyncClient
) -> None:
    searxng.formats = ["html"]
    with pytest.raises(SearchError) as caught:
        await SearxngBackend(http, searxng.url).search("saturn", max_results=3)
    error = caught.value
    assert error.status_code == 502
    assert error.code == "search_backend_error"
    assert "search.formats" in error.message and "HTTP 403" in error.message


async def test_the_limiter_429_stays_a_429(searxng: MockSearxng, http: httpx.AsyncClient) -> None:
    searxng.answer_next(429, b"Too Many Requests", "text/plain")
    with pytest.raises(SearchError) as caught:
        await SearxngBackend(http, searxng.url).search("saturn", max_results=3)
    assert caught.value.status_code == 429
    assert caught.value.envelope()["error"] == {
        "message": "The SearXNG search backend is rate limiting requests: Too Many Requests",
        "type": "requests",
        "param": None,
        "code": "search_rate_limited",
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html>oops</html>", "not JSON ('<html>oops</html>')"),
        (b"[1, 2]", "a JSON list, not an object"),
        (b'{"query": "saturn"}', "no 'results' list"),
        (b"", "not JSON ('an empty body')"),
    ],
)
async def test_malformed_answers_are_502s(
    searxng: MockSearxng, http: httpx.AsyncClient, body: bytes, expected: str
) -> None:
    searxng.answer_next(200, body)
    with pytest.raises(SearchError) as caught:
        await SearxngBackend(http, searxng.url).search("saturn", max_results=3)
    assert caught.value.status_code == 502
    assert caught.value.code == "search_backend_bad_response"
    assert expected in caught.value.message


async def test_a_server_error_keeps_the_instances_message(
    searxng: MockSearxng, http: httpx.AsyncClient
) -> None:
    searxng.answer_next(500, {"error": {"message": "engine crashed"}})
    with pytest.raises(SearchError) as caught:
        await SearxngBackend(http, searxng.url).search("saturn", max_results=3)
    assert caught.value.status_code == 502
    assert caught.value.message == "The SearXNG search backend answered HTTP 500: engine crashed"


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_a_stopped_instance_is_unreachable_without_leaking_credentials(
    transport: str,
) -> None:
    url = f"http://admin:hunter2@127.0.0.1:{free_port()}"  # nothing listens there
    inner = AiohttpTransport() if transport == "aiohttp" else httpx.AsyncHTTPTransport()
    async with httpx.AsyncClient(transport=inner) as client:
        with pytest.raises(SearchError) as caught:
            await SearxngBackend(client, url).search("saturn", max_results=3)
    error = caught.value
    assert error.status_code == 502
    assert error.code == "search_backend_unreachable"
    assert error.message.startswith("The SearXNG search backend at http://127.0.0.1:")
    assert "hunter2" not in error.message and "admin" not in error.message


async def test_credentials_in_the_url_become_basic_auth_on_the_aiohttp_transport(
    searxng: MockSearxng,
) -> None:
    url = searxng.url.replace("http://", "http://admin:p%40ss@")
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        results = await SearxngBackend(client, url).search("jupiter", max_results=3)
    assert [r.url for r in results] == ["https://jupiter.example.org/"]
    expected = "Basic " + base64.b64encode(b"admin:p@ss").decode()
    assert searxng.headers[0]["authorization"] == expected
