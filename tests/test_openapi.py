"""/openapi.json documents the JSON bodies relaystack validates, and every $ref resolves."""

from __future__ import annotations

from typing import Any

import httpx


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_request_bodies_are_documented_and_refs_resolve(server: str) -> None:
    document = httpx.get(server.removesuffix("/v1") + "/openapi.json").json()
    bodies = {
        (method, path): operation["requestBody"]["content"]["application/json"]["schema"]
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    assert bodies[("post", "/v1/responses")] == {
        "$ref": "#/components/schemas/CreateResponseRequest"
    }
    for path in (
        "/v1/conversations",
        "/v1/conversations/{conversation_id}",
        "/v1/conversations/{conversation_id}/items",
    ):
        assert ("post", path) in bodies
    schemas = document["components"]["schemas"]
    for ref in _refs(document):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    assert "input" in schemas["CreateResponseRequest"]["properties"]
