"""Loopback servers speaking the real HTTP APIs of the search backends.

``MockSearxng`` answers ``/search`` as SearXNG does (GET or POST, parameters in the
query string or the form, ``format=json`` or a 403 when JSON is not enabled, the
``site:`` operator its engines understand); ``MockTavily`` answers ``POST /search`` as
Tavily does (Bearer key or 401, ``include_domains``, ``{"detail": {"error"}}`` errors).
Both search a small fixed set of pages by word overlap, keep every request, and can be
told to answer the next request with a scripted status and body instead.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PAGES: list[dict[str, str]] = [
    {
        "url": "https://science.nasa.gov/saturn/rings/",
        "title": "Saturn's Rings - NASA Science",
        "content": "Saturn's rings are made of billions of pieces of ice and rock.",
    },
    {
        "url": "https://en.wikipedia.org/wiki/Rings_of_Saturn",
        "title": "Rings of Saturn - Wikipedia",
        "content": "The rings of Saturn are the most extensive ring system of any planet.",
    },
    {
        "url": "https://www.esa.int/Science_Exploration/Cassini",
        "title": "Cassini at Saturn",
        "content": "Cassini orbited Saturn for thirteen years and studied its rings and moons.",
    },
    {
        "url": "https://nasa.gov.example.net/fake-saturn",
        "title": "Not NASA: Saturn rings for sale",
        "content": "A look-alike domain that only ends in nasa.gov in its first labels.",
    },
    {
        "url": "https://jupiter.example.org/",
        "title": "Jupiter facts",
        "content": "Jupiter is the largest planet; its rings are faint.",
    },
]


def host_in(url: str, domains: list[str]) -> bool:
    host = urlsplit(url).hostname or ""
    return any(host == d or host.endswith("." + d) for d in domains)


def matching(query: str, domains: list[str] | None = None) -> list[dict[str, str]]:
    words = set(re.findall(r"\w+", query.lower()))
    found = []
    for page in PAGES:
        text = set(re.findall(r"\w+", (page["title"] + " " + page["content"]).lower()))
        if words & text and (not domains or host_in(page["url"], domains)):
            found.append(page)
    return found


@dataclass
class Scripted:
    """The next answer, whatever was asked."""

    status: int
    body: bytes
    content_type: str = "application/json"


class _Scriptable:
    def __init__(self) -> None:
        self.url = ""  # set once the server listens
        self.delay = 0.0  # seconds before answering
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._script: deque[Scripted] = deque()
        self._lock = threading.Lock()

    def answer_next(self, status: int, body: Any, content_type: str = "application/json") -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        with self._lock:
            self._script.append(Scripted(status, raw, content_type))

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.delay = 0.0
            self.requests.clear()
            self.headers.clear()

    async def _scripted(self) -> Response | None:
        await asyncio.sleep(self.delay)
        with self._lock:
            step = self._script.popleft() if self._script else None
        if step is None:
            return None
        return Response(step.body, status_code=step.status, media_type=step.content_type)


class MockSearxng(_Scriptable):
    def __init__(self) -> None:
        super().__init__()
        self.formats = ["html", "json"]  # settings.yml search.formats
        self.app = Starlette(routes=[Route("/search", self._search, methods=["GET", "POST"])])

    async def _search(self, request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            # url-encoded, as SearXNG's own form posts (and without python-multipart)
            params.update(parse_qsl((await request.body()).decode()))
        self.requests.append({"method": request.method, **params})
        self.headers.append(dict(request.headers))
        if (scripted := await self._scripted()) is not None:
            return scripted
        output_format = params.get("format", "html")
        if output_format not in self.formats:
            return Response("Forbidden", status_code=403, media_type="text/html")
        if output_format != "json":
            return Response("<html>results</html>", media_type="text/html")
        query = params.get("q", "")
        sites = re.findall(r"\bsite:(\S+)", query)
        words = re.sub(r"\bsite:\S+", "", query)
        results = [_searxng_result(page, i) for i, page in enumerate(matching(words, sites))]
        return JSONResponse(
            {
                "query": query,
                "number_of_results": 0,
                "results": results,
                "answers": [],
                "corrections": [],
                "infoboxes": [],
                "suggestions": [],
                "unresponsive_engines": [],
            }
        )


def _searxng_result(page: dict[str, str], position: int) -> dict[str, Any]:
    parts = urlsplit(page["url"])
    return {
        **page,
        "engine": "duckduckgo",
        "template": "default.html",
        "parsed_url": [parts.scheme, parts.netloc, parts.path, "", parts.query, ""],
        "img_src": "",
        "thumbnail": "",
        "priority": "",
        "engines": ["duckduckgo", "brave"],
        "positions": [position + 1],
        "score": 2.0 / (position + 1),
        "category": "general",
        "publishedDate": None,
    }


class MockTavily(_Scriptable):
    def __init__(self, api_key: str = "tvly-test-key-123") -> None:
        super().__init__()
        self.api_key = api_key
        self.ignore_domains = False  # a misbehaving API: include_domains not applied
        self.app = Starlette(routes=[Route("/search", self._search, methods=["POST"])])

    async def _search(self, request: Request) -> Response:
        raw = await request.body()
        self.headers.append(dict(request.headers))
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode()
        self.requests.append(body)
        if (scripted := await self._scripted()) is not None:
            return scripted
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _detail(401, "Unauthorized: missing or invalid API key.")
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return _detail(400, "Query is missing.")
        domains = None if self.ignore_domains else body.get("include_domains")
        pages = matching(body["query"], domains)[: body.get("max_results", 5)]
        return JSONResponse(
            {
                "query": body["query"],
                "follow_up_questions": None,
                "answer": None,
                "images": [],
                "results": [
                    {**page, "score": 0.9 - i / 10, "raw_content": None}
                    for i, page in enumerate(pages)
                ],
                "response_time": 0.42,
                "request_id": "123e4567-e89b-12d3-a456-426614174111",
            }
        )


def _detail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": {"error": message}}, status_code=status)
