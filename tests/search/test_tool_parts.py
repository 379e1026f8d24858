"""The web_search tool's pure parts: definition, call item, model text, citations."""

from __future__ import annotations

import pydantic
import pytest
from openai.types.responses import (
    ResponseFunctionWebSearch,
    ResponseOutputText,
    ResponseWebSearchCallCompletedEvent,
    ResponseWebSearchCallInProgressEvent,
    ResponseWebSearchCallSearchingEvent,
)

from relaystack.search import SearchResult, UserLocation
from relaystack.search.call_item import (
    EVENT_TYPES,
    sources_of,
    web_search_call,
)
from relaystack.search.citations import citations_in
from relaystack.search.definition import WebSearchDefinition
from relaystack.search.errors import no_backend
from relaystack.search.model_text import results_text
from tests.support.spec import assert_valid

RESULTS = [
    SearchResult("https://science.nasa.gov/saturn/", "Saturn - NASA", "Saturn has rings."),
    SearchResult("https://en.wikipedia.org/wiki/Saturn", "Saturn - Wikipedia", "A gas giant."),
    SearchResult("https://science.nasa.gov/saturn/", "Saturn - NASA", "Duplicate url."),
]


def test_a_full_definition_parses_and_normalises_domains() -> None:
    tool = WebSearchDefinition.model_validate(
        {
            "type": "web_search",
            "filters": {"allowed_domains": ["https://NASA.gov/", "wikipedia.org", "nasa.gov"]},
            "user_location": {"type": "approximate", "country": "us", "city": "Boston"},
            "search_context_size": "high",
            "external_web_access": False,
        }
    )
    assert tool.allowed_domains == ["nasa.gov", "wikipedia.org"]
    assert tool.context_size == "high" and not tool.goes_online
    assert tool.user_location is not None
    assert tool.user_location.location() == UserLocation(city="Boston", country="US")
    preview = WebSearchDefinition.model_validate({"type": "web_search_preview"})
    assert (preview.context_size, preview.allowed_domains, preview.goes_online) == (
        "medium",
        [],
        True,
    )


@pytest.mark.parametrize(
    ("tool", "location"),
    [
        ({"type": "web_search", "filters": {"allowed_domains": ["not a domain"]}}, "filters"),
        ({"type": "web_search", "filters": {"allowed_domains": ["a.b"] * 101}}, "filters"),
        ({"type": "web_search", "search_context_size": "huge"}, "search_context_size"),
        ({"type": "web_search", "user_location": {"country": "USA"}}, "user_location"),
        ({"type": "web_search", "external_web_access": "no"}, "external_web_access"),
        ({"type": "web_search", "sites": ["x"]}, "sites"),
        ({"type": "web_searching"}, "type"),
    ],
)
def test_bad_definitions_name_the_field(tool: dict[str, object], location: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        WebSearchDefinition.model_validate(tool)
    assert caught.value.errors()[0]["loc"][0] == location


def test_the_call_item_is_openais_shape_with_and_without_sources() -> None:
    # Whether sources are included is the session's choice (``include``), tested over
    # HTTP in tests/tools/test_web_search.py; here: both shapes are OpenAI's.
    item_id = "ws_1"
    bare = web_search_call(item_id, "saturn rings")
    assert bare["action"] == {"type": "search", "query": "saturn rings"}
    assert ResponseFunctionWebSearch.model_validate(bare).model_dump(exclude_none=True) == bare
    stored = web_search_call(item_id, "saturn rings")
    stored["action"]["sources"] = sources_of(RESULTS)  # one source per distinct url
    assert stored == {
        "id": "ws_1",
        "type": "web_search_call",
        "status": "completed",
        "action": {
            "type": "search",
            "query": "saturn rings",
            "sources": [
                {"type": "url", "url": "https://science.nasa.gov/saturn/"},
                {"type": "url", "url": "https://en.wikipedia.org/wiki/Saturn"},
            ],
        },
    }
    parsed = ResponseFunctionWebSearch.model_validate(stored)
    assert parsed.model_dump(exclude_none=True) == stored
    running = web_search_call(item_id, "saturn rings", status="in_progress")
    assert ResponseFunctionWebSearch.model_validate(running).status == "in_progress"


def test_the_event_types_are_the_sdks() -> None:
    models = [
        ResponseWebSearchCallInProgressEvent,
        ResponseWebSearchCallSearchingEvent,
        ResponseWebSearchCallCompletedEvent,
    ]
    for event_type, model in zip(EVENT_TYPES, models, strict=True):
        event = {"type": event_type, "item_id": "ws_1", "output_index": 0, "sequence_number": 3}
        assert model.model_validate(event).type == event_type


def test_the_model_reads_numbered_sources_sized_by_the_context() -> None:
    long = SearchResult("https://x.example/", "Long", "word " * 1000)
    text = results_text("saturn", [RESULTS[0], long, RESULTS[1], long], "low")
    assert text.startswith(
        'Web search results for "saturn". Cite a source by its number in brackets, e.g. [1].'
        "\n\n[1] Saturn - NASA\nURL: https://science.nasa.gov/saturn/\nSaturn has rings."
        "\n\n[2] Long\nURL: https://x.example/\nword word"
    )
    second = text.split("\n\n")[2]
    assert second.endswith(" ...") and len(second.split("\n")[2]) <= 404
    assert "[4]" not in text  # low shows three sources
    assert "[4] Long" in results_text("saturn", [long] * 9, "medium").split("[6]")[0]
    assert results_text("saturn", [], "high") == (
        'Web search results for "saturn": nothing was found.'
    )


def test_citations_cover_markers_and_links_to_sources() -> None:
    answer = (
        "Saturn has rings [1]. It is a gas giant [1, 2] ([Wikipedia]"
        "(https://en.wikipedia.org/wiki/Saturn)). Not a source: [7], [x](https://other.example/)."
    )
    found = citations_in(answer, RESULTS[:2])
    assert [answer[c["start_index"] : c["end_index"]] for c in found] == [
        "[1]",
        "[1, 2]",
        "[1, 2]",
        "[Wikipedia](https://en.wikipedia.org/wiki/Saturn)",
    ]
    assert [c["url"] for c in found] == [
        "https://science.nasa.gov/saturn/",
        "https://science.nasa.gov/saturn/",
        "https://en.wikipedia.org/wiki/Saturn",
        "https://en.wikipedia.org/wiki/Saturn",
    ]
    assert found[0] == {
        "type": "url_citation",
        "url": "https://science.nasa.gov/saturn/",
        "title": "Saturn - NASA",
        "start_index": 17,
        "end_index": 20,
    }
    part = {"type": "output_text", "text": answer, "annotations": found, "logprobs": []}
    assert_valid("OutputTextContent", part)
    for citation in found:
        assert_valid("UrlCitationBody", citation)
    assert ResponseOutputText.model_validate(part).annotations[0].type == "url_citation"


def test_no_backend_is_a_400_naming_the_tool() -> None:
    error = no_backend(2)
    assert error.status_code == 400
    assert error.envelope() == {
        "error": {
            "message": "The web_search tool is not available: this server has no search "
            "backend configured (tools.web_search.backend).",
            "type": "invalid_request_error",
            "param": "tools[2]",
            "code": "web_search_not_configured",
        }
    }
