"""Regular expressions as GBNF over the *JSON-escaped* text they match.

A custom tool's input is a string inside the tool call's JSON (``{"input": "..."}``), so
the grammar that constrains it must produce the string's escaped form: a newline the
pattern asks for is sampled as the two characters ``\\n``, a quote as ``\\"``. The
regex is read with Python's own parser (``re._parser``, the same one ``re`` compiles
with: no hand-written regex parser to get wrong) and each piece becomes GBNF:
literals, classes, ``.``, groups, alternation and repetition. What GBNF cannot say
(look-around, back-references, ``\\b``, anchors inside the pattern, case-insensitive
matching) is a ``GrammarUnsupported`` naming the construct.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_MAX_CODEPOINT = 0x10FFFF
_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Characters JSON allows unescaped in a string: everything but '"', '\' and controls.
_SPECIAL = [(0x00, 0x1F), (ord('"'), ord('"')), (ord("\\"), ord("\\"))]
# Control characters a negated class lets through, escaped (the others are left out: a
# grammar may narrow what it accepts, never widen it).
_NEGATED_CONTROLS = "\n\r\t"

_CATEGORIES: dict[Any, tuple[bool, list[tuple[int, int]]]] = {
    sre.CATEGORY_DIGIT: (False, [(0x30, 0x39)]),
    sre.CATEGORY_NOT_DIGIT: (True, [(0x30, 0x39)]),
    sre.CATEGORY_SPACE: (False, [(0x09, 0x0D), (0x20, 0x20)]),
    sre.CATEGORY_NOT_SPACE: (True, [(0x09, 0x0D), (0x20, 0x20)]),
    sre.CATEGORY_WORD: (False, [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]),
    sre.CATEGORY_NOT_WORD: (True, [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]),
}


class GrammarUnsupported(ValueError):
    """A grammar construct the local model's sampler (GBNF) cannot express."""


def literal(text: str) -> str:
    """GBNF for exactly ``text``, JSON-escaped."""
    if not text:
        return '""'
    return '"' + "".join(_gbnf_literal_char(c) for c in _json_escaped(text)) + '"'


def raw_literal(text: str) -> str:
    """GBNF for exactly ``text`` as it is (JSON structure around a string)."""
    return '"' + "".join(_gbnf_literal_char(c) for c in text) + '"'


def regex_gbnf(pattern: str, *, dotall: bool = False) -> str:
    """A GBNF expression (no rule name) for the JSON-escaped strings ``pattern`` matches
    in full."""
    # Rust's (OpenAI's) named-group syntax, which Python's parser spells (?P<name>...).
    pattern = re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern)
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        raise GrammarUnsupported(f"the regex does not parse: {exc}") from exc
    flags = parsed.state.flags
    if flags & re.IGNORECASE:
        raise GrammarUnsupported("case-insensitive matching ((?i)) is not supported")
    items = list(parsed)
    # Anchors at the very ends are what "matches in full" means anyway.
    if items and items[0] == (sre.AT, sre.AT_BEGINNING):
        items = items[1:]
    if items and items[-1][0] is sre.AT and items[-1][1] in (sre.AT_END, sre.AT_END_STRING):
        items = items[:-1]
    return _sequence(items, dotall or bool(flags & re.DOTALL))


def _sequence(items: Iterable[tuple[Any, Any]], dotall: bool) -> str:
    parts = [_item(op, arg, dotall) for op, arg in items]
    return "(" + " ".join(parts) + ")" if parts else '""'


def _item(op: Any, arg: Any, dotall: bool) -> str:
    if op is sre.LITERAL:
        return literal(chr(arg))
    if op is sre.NOT_LITERAL:
        return _char_set(True, [(arg, arg)])
    if op is sre.ANY:
        return _char_set(True, [] if dotall else [(0x0A, 0x0A)])
    if op is sre.IN:
        return _class(arg)
    if op is sre.BRANCH:
        return "(" + " | ".join(_sequence(branch, dotall) for branch in arg[1]) + ")"
    if op is sre.SUBPATTERN:
        _group, add_flags, _del_flags, sub = arg
        if add_flags & re.IGNORECASE:
            raise GrammarUnsupported("case-insensitive matching ((?i)) is not supported")
        return _sequence(sub, dotall or bool(add_flags & re.DOTALL))
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        low, high, sub = arg
        return _sequence(sub, dotall) + _repeat(low, high)
    if op is sre.AT:
        raise GrammarUnsupported("anchors and \\b inside the pattern are not supported")
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        raise GrammarUnsupported("look-ahead and look-behind are not supported")
    if op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
        raise GrammarUnsupported("back-references are not supported")
    raise GrammarUnsupported(f"the regex construct {str(op).lower()} is not supported")


def _repeat(low: int, high: int) -> str:
    unbounded = high == sre.MAXREPEAT
    if (low, unbounded) == (0, True):
        return "*"
    if (low, unbounded) == (1, True):
        return "+"
    if (low, high) == (0, 1):
        return "?"
    if unbounded:
        return f"{{{low},}}"
    return f"{{{low}}}" if low == high else f"{{{low},{high}}}"


def _class(items: list[tuple[Any, Any]]) -> str:
    negated = bool(items) and items[0][0] is sre.NEGATE
    ranges: list[tuple[int, int]] = []
    negative_categories: list[list[tuple[int, int]]] = []
    for op, arg in items[1:] if negated else items:
        if op is sre.LITERAL:
            ranges.append((arg, arg))
        elif op is sre.RANGE:
            ranges.append(arg)
        elif op is sre.CATEGORY and arg in _CATEGORIES:
            is_negative, category = _CATEGORIES[arg]
            if is_negative:
                negative_categories.append(category)
            else:
                ranges.extend(category)
        else:
            raise GrammarUnsupported(f"the class member {str(op).lower()} is not supported")
    if negative_categories:
        # \D, \S, \W alone (or [^\d] ...): a negated set; mixed with others: not here.
        if len(negative_categories) != 1 or ranges or negated:
            raise GrammarUnsupported("classes mixing \\D, \\S or \\W with others")
        return _char_set(True, negative_categories[0])
    return _char_set(negated, ranges)


def _char_set(negated: bool, ranges: list[tuple[int, int]]) -> str:
    """GBNF for one character of a set, JSON-escaped: plain characters as a class, the
    ones JSON escapes as their escape sequences."""
    alternatives: list[str] = []
    if negated:
        excluded = _merge([*ranges, *_SPECIAL])
        alternatives.append("[^" + "".join(_class_range(lo, hi) for lo, hi in excluded) + "]")
        let_through = [c for c in '"\\' + _NEGATED_CONTROLS if not _within(ord(c), ranges)]
    else:
        plain = _subtract(_merge(ranges), _SPECIAL)
        if plain:
            alternatives.append("[" + "".join(_class_range(lo, hi) for lo, hi in plain) + "]")
        let_through = [
            chr(code)
            for lo, hi in _merge(ranges)
            for code in range(lo, min(hi, 0x5C) + 1)
            if _within(code, _SPECIAL)
        ]
    alternatives += [literal(c) for c in let_through]
    if not alternatives:
        raise GrammarUnsupported("a character class that matches nothing")
    return alternatives[0] if len(alternatives) == 1 else "(" + " | ".join(alternatives) + ")"


def _within(code: int, ranges: list[tuple[int, int]]) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _subtract(
    ranges: list[tuple[int, int]], removed: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    result = ranges
    for cut_lo, cut_hi in removed:
        kept: list[tuple[int, int]] = []
        for lo, hi in result:
            if hi < cut_lo or lo > cut_hi:
                kept.append((lo, hi))
                continue
            if lo < cut_lo:
                kept.append((lo, cut_lo - 1))
            if hi > cut_hi:
                kept.append((cut_hi + 1, hi))
        result = kept
    return result


def _json_escaped(text: str) -> str:
    return "".join(_JSON_ESCAPES.get(c, f"\\u{ord(c):04x}" if ord(c) < 0x20 else c) for c in text)


def _gbnf_literal_char(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if " " <= char <= "~":
        return char
    return _gbnf_escape(ord(char))


def _class_range(lo: int, hi: int) -> str:
    first = _gbnf_class_char(lo)
    return first if lo == hi else f"{first}-{_gbnf_class_char(hi)}"


def _gbnf_class_char(code: int) -> str:
    char = chr(code)
    if char.isalnum() and char.isascii():
        return char
    return _gbnf_escape(code)


def _gbnf_escape(code: int) -> str:
    if code <= 0xFF:
        return f"\\x{code:02X}"
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    return f"\\U{min(code, _MAX_CODEPOINT):08X}"
