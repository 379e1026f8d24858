"""GBNF grammars that make the local model's output parse: JSON answers and tool calls.

A grammar constrains sampling token by token, so even a 135M-parameter model produces
JSON that parses and matches the schema (unless ``max_tokens`` cuts it short). Schemas
become grammars with llama-cpp-python's port of llama.cpp's json-schema-to-grammar.

A function of one string argument whose schema carries a grammar (a custom tool's:
``pattern`` for a regex, ``x-grammar`` for a Lark grammar) gets its call written by
hand instead, its string constrained by the translated grammar (``string_grammar``,
``lark_grammar``); what cannot be translated is a 400 naming the tool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import llama_cpp
from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf

from relaystack.errors import InvalidRequest
from relaystack.inference.local.lark_grammar import lark_gbnf
from relaystack.inference.local.request import ChatRequest, FunctionSpec
from relaystack.inference.local.string_grammar import (
    GrammarUnsupported,
    raw_literal,
    regex_gbnf,
)
from relaystack.wire.json import dumps_stdlib


@dataclass(frozen=True)
class Grammars:
    answer: str | None  # the answer's text (response_format), None: free text
    call: str | None  # a tool call, None: the request offers no tools
    # The fixed opening of a named tool's call (``{"name": "f", "arguments": ``): put in
    # the prompt rather than sampled, since every token sampled under a grammar costs a
    # pass over the whole vocabulary; ``call`` then starts after it.
    call_prefix: str = ""


def grammars_for(request: ChatRequest) -> Grammars:
    """Build a request's grammars (on the event loop: a bad schema is a 400 up front)."""
    answer = response_grammar(request)
    if request.tool_mode == "named":
        prefix, call = named_call_grammar(request.tools, request.tool_name or "")
        return Grammars(answer=answer, call=call, call_prefix=prefix)
    call = None
    if request.tool_mode != "none":
        call = tool_call_grammar(request.tools, request.tool_name)
    return Grammars(answer=answer, call=call)


def named_call_grammar(tools: list[FunctionSpec], name: str) -> tuple[str, str]:
    """The fixed opening of a call of the tool ``name``, and the grammar of the rest."""
    index, tool = next((i, tool) for i, tool in enumerate(tools) if tool.name == name)
    if grammar_argument(tool) is not None:
        opening, rules = _grammar_call_parts(tool, index, "root")
        return opening, rules
    # No trailing space: a lone space token is one the model never writes there (it
    # writes ' {' as one token), and it derails a small model.
    opening = '{"name": ' + dumps_stdlib(tool.name) + ', "arguments":'
    arguments = schema_grammar(tool.parameters, param="tools").replace(
        "root ::= ", "arguments ::= ", 1
    )
    return opening, f'root ::= " "? arguments "}}"\n{arguments}'


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
    chosen = [
        (index, tool) for index, tool in enumerate(tools) if only is None or tool.name == only
    ]
    with_grammar = [(i, tool) for i, tool in chosen if grammar_argument(tool) is not None]
    plain = [tool for _, tool in chosen if grammar_argument(tool) is None]
    if not with_grammar:
        return _schema_calls_grammar(plain)
    rules: list[str] = []
    alternatives: list[str] = []
    if plain:
        # json-schema-to-grammar's rules, its root renamed to be one alternative.
        rules.append(_schema_calls_grammar(plain).replace("root ::= ", "schema-call ::= ", 1))
        alternatives.append("schema-call")
    for index, tool in with_grammar:
        name = f"custom-call-{index}"
        rules.append(_grammar_call(tool, index, name))
        alternatives.append(name)
    return "\n".join([f"root ::= {' | '.join(alternatives)}", *rules])


def _schema_calls_grammar(tools: list[FunctionSpec]) -> str:
    calls = [
        {
            "type": "object",
            "properties": {"name": {"const": tool.name}, "arguments": tool.parameters},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for tool in tools
    ]
    schema = calls[0] if len(calls) == 1 else {"anyOf": calls}
    return schema_grammar(schema, param="tools", prop_order=["name", "arguments"])


def grammar_argument(tool: FunctionSpec) -> tuple[str, dict[str, Any]] | None:
    """The one string argument of ``tool`` that carries a grammar, with its schema."""
    properties = tool.parameters.get("properties")
    if not isinstance(properties, dict) or len(properties) != 1:
        return None
    ((argument, schema),) = properties.items()
    if not isinstance(schema, dict) or schema.get("type") != "string":
        return None
    if isinstance(schema.get("pattern"), str) or isinstance(schema.get("x-grammar"), dict):
        return argument, schema
    return None


def _grammar_call(tool: FunctionSpec, index: int, rule: str) -> str:
    """Rules for a call of ``tool`` whose one string argument follows its grammar."""
    _opening, rules = _grammar_call_parts(tool, index, rule, opening_in_rule=True)
    return rules


def _grammar_call_parts(
    tool: FunctionSpec, index: int, rule: str, *, opening_in_rule: bool = False
) -> tuple[str, str]:
    """The call's fixed opening (up to the string's first quote) and the rules for the
    rest (from ``rule``), which start with the opening when ``opening_in_rule``."""
    found = grammar_argument(tool)
    assert found is not None
    argument, schema = found
    opening = '{"name": ' + dumps_stdlib(tool.name) + ', "arguments": {' + dumps_stdlib(argument)
    opening += ': "'
    grammar = schema.get("x-grammar") or {"syntax": "regex", "definition": schema["pattern"]}
    syntax, definition = grammar.get("syntax"), grammar.get("definition")
    try:
        if not isinstance(definition, str):
            raise GrammarUnsupported("the grammar has no definition")
        if syntax == "regex":
            text, extra = regex_gbnf(definition), ""
        elif syntax == "lark":
            extra, start = lark_gbnf(definition, f"{rule}-g")
            text = start
        else:
            raise GrammarUnsupported(f"the grammar syntax {syntax!r} is not one it reads")
    except GrammarUnsupported as exc:
        raise InvalidRequest(
            f"The local model cannot follow the {syntax} grammar of tool '{tool.name}': {exc}.",
            param=f"tools[{index}].format.definition",
            code="invalid_value",
        ) from exc
    start = f"{raw_literal(opening)} " if opening_in_rule else ""
    call = f"{rule} ::= {start}{text} {raw_literal(chr(34) + '}}')}"
    return opening, "\n".join(part for part in (call, extra) if part)


def schema_grammar(
    schema: dict[str, Any], *, param: str, prop_order: list[str] | None = None
) -> str:
    try:
        return json_schema_to_gbnf(dumps_stdlib(schema), prop_order)
    except Exception as exc:  # the converter raises bare ValueErrors, KeyErrors ...
        raise InvalidRequest(
            f"The local model cannot follow this JSON schema: {exc}", param=param
        ) from exc


def check_grammar(vocab: Any, grammar: str, *, param: str, hint: str = "") -> None:
    """Reject a grammar llama.cpp cannot parse.

    llama-cpp-python hands llama.cpp's NULL for a bad grammar straight to the sampler
    chain, which crashes the process; so parse it once here first (on the worker thread,
    which owns the model's vocabulary).
    """
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
    if not sampler:
        raise InvalidRequest(
            f"The local model could not compile a grammar for this request{hint}.", param=param
        )
    llama_cpp.llama_sampler_free(sampler)


def grammar_tools_hint(tools: list[FunctionSpec]) -> str:
    """What to say of a call grammar llama.cpp refused: the tools with grammars of their
    own (a left-recursive Lark rule is the usual cause) are the likely ones."""
    names = [tool.name for tool in tools if grammar_argument(tool) is not None]
    if not names:
        return ""
    listed = ", ".join(f"'{name}'" for name in names)
    return f" (check the grammar of {listed}: llama.cpp refuses left-recursive rules)"
