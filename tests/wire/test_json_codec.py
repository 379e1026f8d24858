"""The JSON codec on its own: the fast path, the lenient reader, stdlib-exact text."""

from __future__ import annotations

import json

import pytest

from relaystack.wire.json import dumps, dumps_stdlib, dumps_str, loads, loads_lenient

VALUE = {"b": [1, 2.5, 1e16, None, True], "a": "Saturn \u2644 caf\u00e9", "c": {"z": {}}}


def test_dumps_is_compact_utf8() -> None:
    assert dumps({"a": "\u00e9", "b": [1, 2]}) == b'{"a":"\xc3\xa9","b":[1,2]}'
    assert dumps_str({"a": "\u00e9"}) == '{"a":"\u00e9"}'
    assert loads(dumps(VALUE)) == VALUE


def test_loads_is_strict() -> None:
    with pytest.raises(ValueError):
        loads(b"[NaN]")


@pytest.mark.parametrize(
    "text",
    [
        str(2**70),
        f'{{"n": [-{2**64}, {2**64 - 1}, 0.00012345678901234567890, "{2**80}"]}}',
        '{"a": 1, "b": [1.5, 1e16, 12345678901234567890.5, null]}',
        "[NaN, Infinity]",
    ],
)
def test_loads_lenient_reads_what_stdlib_json_reads(text: str) -> None:
    for data in (text, text.encode()):
        found, expected = loads_lenient(data), json.loads(data)
        assert repr(found) == repr(expected)  # repr: exact types, and NaN equal to itself


def test_loads_lenient_refuses_what_stdlib_json_refuses() -> None:
    with pytest.raises(ValueError):
        loads_lenient(b"{not json")
    with pytest.raises(ValueError):
        loads_lenient(b'{"n": 123456789012345678901')


@pytest.mark.parametrize(
    ("options", "stdlib_options"),
    [
        ({}, {}),
        ({"indent": 2}, {"indent": 2}),
        ({"sort_keys": True}, {"sort_keys": True}),
        ({"ascii_only": False}, {"ensure_ascii": False}),
        ({"ascii_only": False, "compact": True}, {"ensure_ascii": False, "separators": (",", ":")}),
    ],
)
def test_dumps_stdlib_writes_exactly_what_json_dumps_writes(
    options: dict[str, object], stdlib_options: dict[str, object]
) -> None:
    value = {**VALUE, "big": 2**70}
    assert dumps_stdlib(value, **options) == json.dumps(value, **stdlib_options)  # type: ignore[arg-type]
