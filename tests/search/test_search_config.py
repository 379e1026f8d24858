"""Web search configuration: the backend union, key sources, and building backends."""

from __future__ import annotations

import httpx
import pydantic
import pytest

from relaystack.search import OfflineBackend, SearchConfigError, build_backend
from relaystack.search.config import TavilyConfig, WebSearchConfig
from relaystack.search.searxng import SearxngBackend
from relaystack.search.tavily import TavilyBackend
from tests.support.search_servers import MockTavily


def test_the_backend_is_chosen_by_type() -> None:
    config = WebSearchConfig.model_validate(
        {
            "backend": {"type": "searxng", "base_url": "http://127.0.0.1:8888", "language": "en"},
            "offline": {"type": "offline", "pages_file": "pages.json"},
        }
    )
    assert config.backend is not None and config.backend.type == "searxng"
    assert config.offline is not None and str(config.offline.pages_file) == "pages.json"
    assert WebSearchConfig.model_validate({}).backend is None


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"backend": {"type": "bing"}}, "union_tag_invalid"),
        ({"backend": {"type": "searxng"}}, "missing"),
        ({"backend": {"type": "searxng", "base_url": "x", "limit": 3}}, "extra_forbidden"),
        ({"backend": {"type": "tavily", "api_key": "a", "api_key_env": "B"}}, "value_error"),
        ({"engine": "searxng"}, "extra_forbidden"),
    ],
)
def test_mistakes_are_refused(data: dict[str, object], problem: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        WebSearchConfig.model_validate(data)
    assert caught.value.errors()[0]["type"] == problem


def test_the_tavily_key_comes_from_config_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inline = TavilyConfig(type="tavily", api_key="tvly-inline-secret")
    assert inline.resolved_api_key() == "tvly-inline-secret"
    assert "tvly-inline-secret" not in repr(inline) and "tvly-inline-secret" not in str(inline)
    monkeypatch.setenv("TAVILY_API_KEY", "tvly-from-env")
    assert TavilyConfig(type="tavily").resolved_api_key() == "tvly-from-env"
    monkeypatch.setenv("MY_KEY", "tvly-mine")
    named = TavilyConfig(type="tavily", api_key_env="MY_KEY")
    assert (named.resolved_api_key(), named.key_source) == (
        "tvly-mine",
        "the MY_KEY environment variable",
    )


async def test_build_backend_makes_each_kind_around_the_given_client(
    monkeypatch: pytest.MonkeyPatch, tavily: MockTavily
) -> None:
    monkeypatch.delenv("TAVILY_API_KEY", raising=False)
    async with httpx.AsyncClient() as client:
        searxng = WebSearchConfig.model_validate(
            {"backend": {"type": "searxng", "base_url": "http://127.0.0.1:8888"}}
        ).backend
        assert searxng is not None
        assert isinstance(build_backend(searxng, client), SearxngBackend)
        with pytest.raises(SearchConfigError, match="needs an API key: set the TAVILY_API_KEY"):
            build_backend(TavilyConfig(type="tavily"), client)
        configured = TavilyConfig(type="tavily", api_key=tavily.api_key, base_url=tavily.url)
        backend = build_backend(configured, client)
        assert isinstance(backend, TavilyBackend)
        results = await backend.search("jupiter", max_results=1)
        assert [r.url for r in results] == ["https://jupiter.example.org/"]
        offline = WebSearchConfig.model_validate({"backend": {"type": "offline"}}).backend
        assert offline is not None
        assert isinstance(build_backend(offline, client), OfflineBackend)
