"""The SSE codec on its own: framing and parsing bytes, no sockets."""

from __future__ import annotations

import pytest

from relaystack.wire.json import loads
from relaystack.wire.sse import DONE_FRAME, PayloadDecoder, data_frame, event_frame, payloads

STREAM = (
    b": keep-alive comment\n"
    b"event: message\n"
    b"id: 7\n"
    b"retry: 1000\n"
    b'data: {"n": 1, "text": "Saturn \xe2\x99\x84"}\n'
    b"\n"
    b'data: {"n": 2,\n'
    b'data: "lines": 2}\n'
    b"\n"
    b'data:{"n": 3}\n'
    b"\n"
)
EXPECTED = [
    b'{"n": 1, "text": "Saturn \xe2\x99\x84"}',
    b'{"n": 2,\n"lines": 2}',
    b'{"n": 3}',
]


def with_line_ends(body: bytes, end: bytes) -> bytes:
    return body.replace(b"\n", end)


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_line_ends_give_the_same_payloads(end: bytes) -> None:
    assert payloads(with_line_ends(STREAM, end)) == EXPECTED


def test_multi_line_data_is_joined_by_lf() -> None:
    [payload] = payloads(b'data: {\r\ndata:   "a": 1\r\ndata: }\r\n\r\n')
    assert payload == b'{\n  "a": 1\n}'
    assert loads(payload) == {"a": 1}


def test_comments_and_other_fields_are_ignored() -> None:
    body = b": hi\nevent: response.created\nid: 1\nretry: 5\n\n: only a comment\n\n"
    assert payloads(body) == []


def test_only_one_space_after_the_colon_is_removed() -> None:
    assert payloads(b"data:x\n\ndata: x\n\ndata:  x\n\n") == [b"x", b"x", b" x"]


def test_blank_payloads_are_skipped() -> None:
    assert payloads(b"data:\n\ndata:   \n\n" + data_frame({"a": 1})) == [b'{"a":1}']


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_done_ends_the_stream(end: bytes) -> None:
    body = with_line_ends(b'data: {"a": 1}\n\ndata: [DONE]\n\ndata: {"after": 1}\n\n', end)
    decoder = PayloadDecoder()
    assert decoder.feed(body) == [b'{"a": 1}']
    assert decoder.done
    assert decoder.feed(b'data: {"later": 1}\n\n') == []
    assert decoder.close() == []


def test_the_last_line_without_newline_counts() -> None:
    assert payloads(b'data: {"a": 1}\n\ndata: {"b": 2}') == [b'{"a": 1}', b'{"b": 2}']
    assert payloads(b'data: {"b": 2}\r') == [b'{"b": 2}']
    assert payloads(b'data: {"b": 2}\n') == [b'{"b": 2}']
    assert payloads(b"data: [DONE]") == []


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_a_body_split_at_every_offset_gives_the_same_payloads(end: bytes) -> None:
    body = with_line_ends(STREAM, end) + b"data: [DONE]" + end + end
    for cut in range(len(body) + 1):
        decoder = PayloadDecoder()
        found = decoder.feed(body[:cut]) + decoder.feed(body[cut:]) + decoder.close()
        assert found == EXPECTED, f"split at byte {cut}: {body[:cut]!r} | {body[cut:]!r}"


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_a_body_fed_byte_by_byte_gives_the_same_payloads(end: bytes) -> None:
    body = with_line_ends(STREAM, end)
    decoder = PayloadDecoder()
    found = [p for i in range(len(body)) for p in decoder.feed(body[i : i + 1])]
    assert found + decoder.close() == EXPECTED


def test_frames_are_byte_exact() -> None:
    event = {"type": "response.output_text.delta", "delta": "Ring\u00e9", "sequence_number": 3}
    assert event_frame(event) == (
        b"event: response.output_text.delta\n"
        b'data: {"type":"response.output_text.delta","delta":"Ring\xc3\xa9","sequence_number":3}'
        b"\n\n"
    )
    assert data_frame({"id": "c", "choices": []}) == b'data: {"id":"c","choices":[]}\n\n'
    assert DONE_FRAME == b"data: [DONE]\n\n"


def test_frames_parse_back_to_what_was_framed() -> None:
    chunks = [{"n": 1, "text": "a\nb"}, {"type": "x", "n": 2}]
    body = data_frame(chunks[0]) + event_frame(chunks[1]) + DONE_FRAME + data_frame({"n": 3})
    assert [loads(p) for p in payloads(body)] == chunks
