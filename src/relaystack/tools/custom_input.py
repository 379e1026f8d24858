"""A custom tool's ``input`` read out of the chat function arguments that carry it.

Upstream, a ``custom`` tool is a function of one string argument, so its calls arrive as
JSON text in pieces (``{"input": "*** Begin Pa`` ...). ``InputDecoder`` turns those
pieces into pieces of the decoded string as soon as they are certain (an escape split
between two pieces waits for its end), so ``response.custom_tool_call_input.delta``
events stream the input itself, not its JSON.
"""

from __future__ import annotations

import re

from relaystack.wire.json import dumps_stdlib, loads_lenient

INPUT_ARGUMENT = "input"

_OPENING = re.compile(r'\s*\{\s*"input"\s*:\s*"')
# A backslash escape; a \uXXXX for the first half of a surrogate pair needs its second.
_ESCAPE = re.compile(r'\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})')
_HIGH_SURROGATE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}$")


def arguments_for(text: str) -> str:
    """The chat arguments that carry ``text`` as the tool's input (byte-stable)."""
    return dumps_stdlib({INPUT_ARGUMENT: text}, ascii_only=False, compact=True)


def input_of(arguments: str) -> str:
    """The input in a call's complete arguments. A model that wrapped it differently (one
    string under another key) still gets its string through; anything else is taken as
    the input itself, as written."""
    try:
        value = loads_lenient(arguments)
    except ValueError:
        return arguments
    if isinstance(value, dict):
        if isinstance(value.get(INPUT_ARGUMENT), str):
            return str(value[INPUT_ARGUMENT])
        strings = [v for v in value.values() if isinstance(v, str)]
        if len(value) == 1 and strings:
            return strings[0]
    if isinstance(value, str):
        return value
    return arguments


class InputDecoder:
    """Decodes the ``input`` string of arguments fed piece by piece."""

    def __init__(self) -> None:
        self._raw = ""
        self._start: int | None = None  # where the string's characters begin
        self._done = 0  # raw characters of the string decoded so far
        self._closed = False

    def feed(self, piece: str) -> str:
        """The newly certain characters of the input (may be empty)."""
        self._raw += piece
        if self._closed:
            return ""
        if self._start is None:
            opening = _OPENING.match(self._raw)
            if opening is None:
                return ""
            self._start = opening.end()
        begin = self._start + self._done
        end = self._certain_end(begin)
        self._done = end - self._start
        if end == begin:
            return ""
        return str(loads_lenient('"' + self._raw[begin:end] + '"'))

    def _certain_end(self, begin: int) -> int:
        """How far from ``begin`` the raw text decodes for sure."""
        raw, at = self._raw, begin
        while at < len(raw):
            char = raw[at]
            if char == '"':
                self._closed = True
                return at
            if char != "\\":
                at += 1
                continue
            escape = _ESCAPE.match(raw, at)
            if escape is None:
                return at  # cut mid-escape (or malformed): wait for more
            if _HIGH_SURROGATE.search(escape.group()):
                pair = _ESCAPE.match(raw, escape.end())
                if pair is None:
                    return at
                at = pair.end()
                continue
            at = escape.end()
        return at
