"""Validation against the Open Responses OpenAPI spec (``shared/specs``), Draft 2020-12.

The spec's component schemas are registered under the spec's own URI so that
``#/components/schemas/X`` references resolve; each stream event is checked against
the ``...StreamingEvent`` schema whose ``type`` enum names it.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parents[3] / "shared" / "specs" / "openresponses-openapi.json"
_SPEC_URI = "urn:openresponses:openapi"

# Deliberate deviation: relaystack sends OpenAI's reasoning event names, where the Open
# Responses spec calls the same events (with the same fields) "response.reasoning.*".
# Such events are validated against the spec's reasoning schemas with the type renamed.
RENAMED_EVENTS = {
    "response.reasoning_text.delta": "response.reasoning.delta",
    "response.reasoning_text.done": "response.reasoning.done",
}


@functools.cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


@functools.cache
def _registry() -> Registry:
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    return Registry().with_resource(_SPEC_URI, resource)


@functools.cache
def _validator(schema_name: str) -> Draft202012Validator:
    if schema_name not in spec()["components"]["schemas"]:
        raise KeyError(f"the spec has no schema {schema_name!r}")
    schema = {"$ref": f"{_SPEC_URI}#/components/schemas/{schema_name}"}
    return Draft202012Validator(schema, registry=_registry())


@functools.cache
def event_schemas() -> dict[str, str]:
    """Event type -> name of the ``...StreamingEvent`` schema that describes it."""
    mapping: dict[str, str] = {}
    for name, schema in spec()["components"]["schemas"].items():
        if not name.endswith("StreamingEvent"):
            continue
        for event_type in schema["properties"]["type"]["enum"]:
            mapping[event_type] = name
    return mapping


def problems(schema_name: str, instance: Any) -> list[str]:
    errors = sorted(_validator(schema_name).iter_errors(instance), key=lambda e: list(e.path))
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in errors
    ]


def assert_valid(schema_name: str, instance: Any) -> None:
    found = problems(schema_name, instance)
    assert not found, f"{schema_name} does not accept the instance:\n" + "\n".join(found[:10])


def assert_valid_response(response: dict[str, Any]) -> None:
    """The spec's ResponseResource; MCP output items and tools (which it lacks) checked
    against OpenAI's shapes instead."""
    outside = [item for item in response.get("output", []) if item["type"] in OPENAI_SHAPES]
    for item in outside:
        assert_openai_shape(item)
    checked = {
        **response,
        "output": [item for item in response.get("output", []) if item not in outside],
        "tools": [tool for tool in response.get("tools", []) if tool.get("type") != "mcp"],
    }
    for tool in response.get("tools", []):
        if tool.get("type") == "custom":
            _custom_tool().model_validate(tool)
    checked["tools"] = [t for t in checked["tools"] if t.get("type") != "custom"]
    checked["tools"] = [t for t in checked["tools"] if not _web_search(t.get("type"))]
    checked["output"] = [_without_file_citations(item) for item in checked["output"]]
    for tool in response.get("tools", []):
        if tool.get("type") == "file_search":  # OpenAI's FileSearchTool; the spec lacks it
            _file_search_tool().model_validate(tool)
    checked["tools"] = [t for t in checked["tools"] if t.get("type") != "file_search"]
    for tool in response.get("tools", []):
        if _web_search(tool.get("type")):
            _web_search_tool(tool["type"]).model_validate(tool)
    checked["tool_choice"] = _spec_tool_choice(response.get("tool_choice"))
    text_format = (response.get("text") or {}).get("format") or {}
    if text_format.get("type") == "json_schema":
        # The spec types the echoed schema as null (it cannot say "any JSON Schema");
        # OpenAI echoes the schema the request gave, and so does relaystack.
        assert isinstance(text_format.get("schema"), dict)
        checked["text"] = {**response["text"], "format": {**text_format, "schema": None}}
    assert_valid("ResponseResource", checked)


def _spec_tool_choice(choice: Any) -> Any:
    """The ``tool_choice`` with the forms the spec lacks (OpenAI's ToolChoiceMcp, web
    search and custom types, checked by the SDK's models elsewhere) taken out."""
    if isinstance(choice, dict) and choice.get("type") == "custom":
        from openai.types.responses import tool_choice_custom

        tool_choice_custom.ToolChoiceCustom.model_validate(choice)
        assert set(choice) == {"type", "name"}, choice
        return "auto"
    if isinstance(choice, dict) and (choice.get("type") == "mcp" or _web_search(choice["type"])):
        return "auto"
    if isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        forms = [
            form
            for form in choice["tools"]
            if not _web_search(form["type"]) and form["type"] != "custom"
        ]
        return {**choice, "tools": forms} if forms else "auto"
    return choice


def assert_valid_item(item: dict[str, Any]) -> None:
    if item["type"] in OPENAI_SHAPES:
        assert_openai_shape(item)
        return
    assert_valid("ItemField", item)


def assert_valid_event(event: dict[str, Any]) -> None:
    event_type = event.get("type")
    if event_type in OPENAI_SHAPES:
        assert_openai_shape(event)
        return
    if "item" in event and event["item"]["type"] in OPENAI_SHAPES:
        assert_openai_shape(event["item"])
        event = {
            **event,
            "item": {
                "type": "message",
                "id": "x",
                "role": "assistant",
                "status": "completed",
                "content": [],
            },
        }
    if "response" in event:
        assert_valid_response(event["response"])
        tool_choice = _spec_tool_choice(event["response"].get("tool_choice"))
        event = {
            **event,
            "response": {
                **event["response"],
                "output": [],
                "tools": [],
                "tool_choice": tool_choice,
            },
        }
    spec_type = RENAMED_EVENTS.get(event_type, event_type)
    assert spec_type in event_schemas(), f"the spec defines no stream event {event_type!r}"
    assert_valid(event_schemas()[spec_type], {**event, "type": spec_type})


def check_stream_contract(events: list[dict[str, Any]]) -> None:
    """Spec-valid events, numbered without gaps, bracketed by created/in_progress and a
    terminal event."""
    assert events, "the stream sent no events"
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    for event in events:
        assert_valid_event(event)
    assert events[0]["type"] == "response.created"
    if events[0]["response"].get("background"):
        # A background response is created queued, says so once, then runs.
        assert events[0]["response"]["status"] == "queued"
        assert events[1]["type"] == "response.queued"
        events = events[1:]
    else:
        assert events[0]["response"]["status"] == "in_progress"
    assert events[1]["type"] == "response.in_progress"
    assert events[1]["response"]["status"] == "in_progress"
    terminal = {"response.completed", "response.failed", "response.incomplete"}
    assert events[-1]["type"] in terminal
    assert not [e for e in events[:-1] if e["type"] in terminal], "a terminal event came early"
    response_id = events[0]["response"]["id"]
    for event in events:
        if "response" in event:
            assert event["response"]["id"] == response_id


# The Open Responses spec has no MCP, web search or custom tool items or events yet.
# Those are checked against OpenAI's own shapes: the models of the official ``openai``
# SDK, with no field beyond the ones they declare (a misspelt field fails).
def _openai_models() -> dict[str, Any]:
    from openai.types.responses import response_input_item, response_output_item
    from openai.types.responses import response_stream_event as events

    items = {
        "mcp_list_tools": response_output_item.McpListTools,
        "mcp_call": response_output_item.McpCall,
        "mcp_approval_request": response_output_item.McpApprovalRequest,
        "mcp_approval_response": response_input_item.McpApprovalResponse,
        "web_search_call": response_output_item.ResponseFunctionWebSearch,
        "file_search_call": response_output_item.ResponseFileSearchToolCall,
        "custom_tool_call": response_output_item.ResponseCustomToolCall,
        "custom_tool_call_output": response_input_item.ResponseCustomToolCallOutput,
    }
    event_models = {
        model.model_fields["type"].annotation.__args__[0]: model
        for model in events.ResponseStreamEvent.__args__[0].__args__  # type: ignore[attr-defined]
        if "mcp" in str(model.model_fields["type"].annotation)
        or "web_search" in str(model.model_fields["type"].annotation)
        or "file_search" in str(model.model_fields["type"].annotation)
        or "custom_tool_call" in str(model.model_fields["type"].annotation)
    }
    return {**items, **event_models}


OPENAI_SHAPES = _openai_models()


def assert_openai_shape(instance: dict[str, Any]) -> None:
    model = OPENAI_SHAPES[instance["type"]]
    model.model_validate(instance)
    extra = set(instance) - set(model.model_fields)
    assert not extra, f"{instance['type']} has fields OpenAI does not define: {extra}"


def _file_search_tool() -> Any:
    from openai.types.responses import file_search_tool

    return file_search_tool.FileSearchTool


def _without_file_citations(item: dict[str, Any]) -> dict[str, Any]:
    """The spec knows only url_citation annotations: file_citation ones are checked
    against OpenAI's model, then left out of what the spec checks."""
    if item.get("type") != "message":
        return item
    from openai.types.responses.response_output_text import AnnotationFileCitation

    content = []
    for part in item.get("content", []):
        annotations = part.get("annotations")
        if annotations:
            for note in annotations:
                if note.get("type") == "file_citation":
                    AnnotationFileCitation.model_validate(note)
                    assert set(note) == set(AnnotationFileCitation.model_fields), note
            kept = [note for note in annotations if note.get("type") != "file_citation"]
            part = {**part, "annotations": kept}
        content.append(part)
    return {**item, "content": content}


def _web_search(tool_type: str | None) -> bool:
    return (tool_type or "").startswith("web_search")


def _web_search_tool(tool_type: str) -> Any:
    """OpenAI's model of a ``web_search`` (or ``web_search_preview``) tool definition."""
    from openai.types.responses import web_search_preview_tool, web_search_tool

    if tool_type.startswith("web_search_preview"):
        return web_search_preview_tool.WebSearchPreviewTool
    return web_search_tool.WebSearchTool


def _custom_tool() -> Any:
    """OpenAI's model of a ``custom`` tool definition (the spec has none)."""
    from openai.types.responses import custom_tool

    return custom_tool.CustomTool
