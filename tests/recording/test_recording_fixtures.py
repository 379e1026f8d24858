"""The reference's own recordings: found by key, replayed unchanged, re-recorded identically."""

from __future__ import annotations

import json
from pathlib import Path

import openai

from relaystack.recording.keys import normalize_body, request_key
from tests.recording.helpers import (
    SEED_TEST_ID,
    MockUpstream,
    make_client,
    sse_chunks,
    using_test_id,
)

REFERENCE_URL = "https://api.openai.com/v1/v1/chat/completions"


def test_fixture_names_are_their_keys(fixture_files: list[Path]) -> None:
    for path in fixture_files:
        data = json.loads(path.read_text())
        request = data["request"]
        key = request_key(request["method"], request["url"], request["body"], data["test_id"])
        assert path.name == f"{key}.json"


def test_body_normalisation_rounds_floats_like_the_reference() -> None:
    body = {"temperature": 0.123456789, "n": 1, "ok": True, "messages": ["pi is 3.14159265 or 2.5"]}
    assert normalize_body(body) == {
        "temperature": 0.12346,
        "n": 1,
        "ok": True,
        "messages": ["pi is 3.14159 or 2.5"],
    }


async def test_fixtures_replay_unchanged_without_network(
    fixture_files: list[Path], rec_upstream: MockUpstream
) -> None:
    # The transport points at a live mock so that any network use would be seen.
    client, _ = make_client("replay", fixture_files[0].parent, rec_upstream.base_url)
    async with client:
        with using_test_id(SEED_TEST_ID):
            for path in fixture_files:
                recording = json.loads(path.read_text())
                response = await client.post("/chat/completions", json=recording["request"]["body"])
                assert response.status_code == 200
                assert response.headers["content-type"] == "text/event-stream"
                expected = [chunk["__data__"] for chunk in recording["response"]["body"]]
                assert sse_chunks(response.text) == expected
    assert rec_upstream.requests == []


async def test_openai_sdk_streams_the_replayed_seed(fixture_files: list[Path]) -> None:
    client, _ = make_client("replay", fixture_files[0].parent, "http://127.0.0.1:9/v1")
    sdk = openai.AsyncOpenAI(base_url="http://127.0.0.1:9/v1", api_key="unused", http_client=client)
    second = next(p for p in fixture_files if p.name.startswith("cd222f01"))
    body = json.loads(second.read_text())["request"]["body"]
    with using_test_id(SEED_TEST_ID):
        stream = await sdk.chat.completions.create(**body)
        text, usage = "", None
        async for chunk in stream:
            text += "".join(c.delta.content or "" for c in chunk.choices)
            usage = chunk.usage or usage
    await sdk.close()
    assert text.startswith(
        'THE PLANET WITH RINGS AROUND IT THAT STARTS WITH THE LETTER "S" IS SATURN.'
    )
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (66, 41)


async def test_recording_the_seed_exchange_reproduces_the_fixture(
    fixture_files: list[Path], rec_upstream: MockUpstream, tmp_path: Path
) -> None:
    for path in fixture_files:
        fixture_text = path.read_text()
        fixture = json.loads(fixture_text)
        # Stream the seed's chunks with fresh upstream-looking ids and timestamps, so the
        # recorder's normalisation is what brings them back to the file's values.
        rec_upstream.stream_script = [
            {**chunk["__data__"], "id": "chatcmpl-upstream123", "created": 1755000000}
            for chunk in fixture["response"]["body"]
        ]
        client, _ = make_client("record", tmp_path, rec_upstream.base_url)
        async with client:
            with using_test_id(SEED_TEST_ID):
                response = await client.post("/chat/completions", json=fixture["request"]["body"])
                assert response.status_code == 200
                await response.aread()

        written_path = tmp_path / path.name  # same key, so same file name
        written_text = written_path.read_text()
        written = json.loads(written_text)
        assert written["request"]["url"] == rec_upstream.base_url + "/v1/chat/completions"
        written["request"]["url"] = fixture["request"]["url"]
        assert written == fixture
        assert list(written) == list(fixture)
        assert list(written["request"]) == list(fixture["request"])
        assert written_text == json.dumps(json.loads(written_text), indent=2) + "\n"
        if "\n" in fixture_text:
            # The pretty-printed fixture is reproduced byte for byte (the other one is
            # stored on a single line; its content was compared above).
            recorded_url = rec_upstream.base_url + "/v1/chat/completions"
            assert written_text.replace(recorded_url, REFERENCE_URL) == fixture_text
        # Headers (the client sent a bearer token) are never written.
        assert "sk-secret" not in written_text
