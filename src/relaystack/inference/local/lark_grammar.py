"""Lark grammars as GBNF over the JSON-escaped text they derive.

Lark's own grammar loader (the ``lark`` package) reads the definition, resolving
``%import common.X`` and keeping the EBNF structure; each rule and terminal then becomes
a GBNF rule, its string literals JSON-escaped and its ``/regex/`` terminals translated
by ``string_grammar``. Lark's EBNF (sequence, ``|``, ``( )``, ``[ ]``, ``? * +``,
``~ n..m``, ``"a".."z"``) maps one to one. What has no GBNF equivalent (``%ignore``,
templates, case-insensitive literals) is a ``GrammarUnsupported``; left recursion,
which llama.cpp's sampler refuses, surfaces when the grammar is compiled.
"""

from __future__ import annotations

import ast
from typing import Any

from lark import Token, Tree
from lark.exceptions import LarkError
from lark.grammar import NonTerminal, Terminal
from lark.load_grammar import GrammarBuilder

from relaystack.inference.local.string_grammar import (
    GrammarUnsupported,
    literal,
    regex_gbnf,
)


def lark_gbnf(definition: str, prefix: str) -> tuple[str, str]:
    """GBNF rules for ``definition`` with names under ``prefix``, and the name of the
    rule for its ``start``."""
    try:
        builder = GrammarBuilder()
        builder.load_grammar(definition)
        grammar = builder.build()
    except LarkError as exc:
        raise GrammarUnsupported(f"the Lark grammar does not load: {exc}") from exc
    if grammar.ignore:
        raise GrammarUnsupported("%ignore is not supported")
    names = _Names(prefix)
    rules: list[str] = []
    starts = False
    for name, params, tree, _options in grammar.rule_defs:
        if params:
            raise GrammarUnsupported(f"templates ({name}{{...}}) are not supported")
        starts = starts or name == "start"
        rules.append(f"{names.rule(name)} ::= {_expression(tree, names)}")
    for name, (tree, _priority) in grammar.term_defs:
        rules.append(f"{names.terminal(name)} ::= {_expression(tree, names)}")
    if not starts:
        raise GrammarUnsupported("the Lark grammar has no 'start' rule")
    return "\n".join(rules), names.rule("start")


class _Names:
    """GBNF rule names (letters, digits and '-') for Lark's rules and terminals."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def rule(self, name: str) -> str:
        return f"{self._prefix}-r-{name.replace('_', '-')}"

    def terminal(self, name: str) -> str:
        return f"{self._prefix}-t-{name.replace('_', '-')}"


def _expression(node: Any, names: _Names) -> str:
    if isinstance(node, NonTerminal):
        return names.rule(node.name)
    if isinstance(node, Terminal):
        return names.terminal(node.name)
    if not isinstance(node, Tree):
        raise GrammarUnsupported(f"unexpected grammar element {node!r}")
    children = node.children
    if node.data == "expansions":
        return "(" + " | ".join(_expression(child, names) for child in children) + ")"
    if node.data == "alias":
        return _expression(children[0], names)  # '-> name' only renames the tree node
    if node.data == "expansion":
        parts = [_expression(child, names) for child in children]
        return "(" + " ".join(parts) + ")" if parts else '""'
    if node.data == "value":
        return _expression(children[0], names)
    if node.data == "maybe":
        return f"({_expression(children[0], names)})?"
    if node.data == "expr":
        return _repeated(children, names)
    if node.data == "literal":
        return _literal(children[0])
    if node.data == "range":
        low, high = (ast.literal_eval(str(token)) for token in children)
        return regex_gbnf(f"[\\u{ord(low):04x}-\\u{ord(high):04x}]")
    raise GrammarUnsupported(f"the Lark construct '{node.data}' is not supported")


def _repeated(children: list[Any], names: _Names) -> str:
    inner = _expression(children[0], names)
    op = str(children[1])
    if op in ("?", "*", "+"):
        return f"({inner}){op}"
    if op == "~":
        low = int(children[2])
        high = int(children[3]) if len(children) > 3 else low
        return f"({inner}){{{low}}}" if low == high else f"({inner}){{{low},{high}}}"
    raise GrammarUnsupported(f"the Lark operator '{op}' is not supported")


def _literal(token: Token) -> str:
    text = str(token)
    if token.type == "STRING":
        if not text.endswith('"'):
            raise GrammarUnsupported(f"case-insensitive literals ({text}) are not supported")
        return literal(ast.literal_eval(text))
    body, _, flags = text[1:].rpartition("/")
    if set(flags) - {"s"}:
        raise GrammarUnsupported(f"regex flags other than 's' ({text}) are not supported")
    return regex_gbnf(body, dotall="s" in flags)
