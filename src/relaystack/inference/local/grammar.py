"""GBNF grammars that make the local model's output parse: JSON answers and tool calls.

A grammar constrains sampling token by token, so even a 135M-parameter model produces
JSON that parses and matches the schema (unless ``max_tokens`` cuts it short). Schemas
become grammars with llama-cpp-python's port of llama.cpp's json-schema-to-grammar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import llama_cpp
from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf

from relaystack.errors import InvalidRequest
from relaystack.inference.local.request import ChatRequest, FunctionSpec
from relaystack.wire.json import dumps_stdlib


@dataclass(frozen=True)
class Grammars:
    answer: str | None  # the answer's text (response_format), None: free text
    call: str | None  # a tool call, None: the request offers no tools


def grammars_for(request: ChatRequest) -> Grammars:
    """Build a request's grammars (on the event loop: a bad schema is a 400 up front)."""
    call = None
    if request.tool_mode != "none":
        call = tool_call_grammar(request.tools, request.tool_name)
    return Grammars(answer=response_grammar(request), call=call)


def response_grammar(request: ChatRequest) -> str | None:
    """The grammar for the answer's text, or None for free text."""
    if request.response_format == "json_object" or (
        request.response_format == "json_schema" and request.response_schema is None
    ):
        return JSON_GBNF
    if request.response_format == "json_schema":
        return schema_grammar(request.response_schema or {}, param="response_format")
    return None


def tool_call_grammar(tools: list[FunctionSpec], only: str | None = None) -> str:
    """A grammar for one ``{"name": ..., "arguments": {...}}`` call of one of ``tools``."""
    calls = [
        {
            "type": "object",
            "properties": {"name": {"const": tool.name}, "arguments": tool.parameters},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for tool in tools
        if only is None or tool.name == only
    ]
    schema = calls[0] if len(calls) == 1 else {"anyOf": calls}
    return schema_grammar(schema, param="tools", prop_order=["name", "arguments"])


def schema_grammar(
    schema: dict[str, Any], *, param: str, prop_order: list[str] | None = None
) -> str:
    try:
        return json_schema_to_gbnf(dumps_stdlib(schema), prop_order)
    except Exception as exc:  # the converter raises bare ValueErrors, KeyErrors ...
        raise InvalidRequest(
            f"The local model cannot follow this JSON schema: {exc}", param=param
        ) from exc


def check_grammar(vocab: Any, grammar: str, *, param: str) -> None:
    """Reject a grammar llama.cpp cannot parse.

    llama-cpp-python hands llama.cpp's NULL for a bad grammar straight to the sampler
    chain, which crashes the process; so parse it once here first (on the worker thread,
    which owns the model's vocabulary).
    """
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
    if not sampler:
        raise InvalidRequest(
            "The local model could not compile a grammar for this request.", param=param
        )
    llama_cpp.llama_sampler_free(sampler)
