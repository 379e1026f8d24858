"""Record against a real loopback upstream, stop it, and replay: same answers, no network."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from relaystack.recording import RecordingMissError
from relaystack.recording.format import load_recording
from relaystack.recording.keys import request_key
from relaystack.recording.runlog import RUN_LOG_ENV
from tests.recording.helpers import MockUpstream, make_client, sse_chunks, using_test_id

TEST_ID = "tests/recording/test_recording_transport.py::demo"
CHAT = {"model": "mock-model", "messages": [{"role": "user", "content": "Say hello"}]}
STREAM = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
EMBED = {"model": "mock-embed", "input": ["one", "two"]}
BAD = {**CHAT, "model": "bad-model"}


async def _exchange(client: httpx.AsyncClient) -> list[tuple[int, str, bytes]]:
    """The same five calls every time: JSON, SSE, embeddings, models, an error."""
    out = []
    for method, path, body in [
        ("POST", "/chat/completions", CHAT),
        ("POST", "/chat/completions", STREAM),
        ("POST", "/embeddings", EMBED),
        ("GET", "/models", None),
        ("POST", "/chat/completions", BAD),
    ]:
        response = await client.request(method, path, json=body)
        out.append((response.status_code, response.headers["content-type"], await response.aread()))
    return out


async def test_record_then_replay_gives_identical_answers(
    rec_upstream: MockUpstream, tmp_path: Path
) -> None:
    client, _ = make_client("record", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID):
            recorded = await _exchange(client)
    assert len(rec_upstream.requests) == 5
    base_url = rec_upstream.base_url
    rec_upstream.stop()

    client, _ = make_client("replay", tmp_path, base_url)
    async with client:
        with using_test_id(TEST_ID):
            replayed = await _exchange(client)
    assert replayed == recorded

    statuses = [status for status, _, _ in recorded]
    assert statuses == [200, 200, 200, 200, 400]
    chunks = sse_chunks(recorded[1][2].decode())
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    assert {c["id"] for c in chunks} == {chunks[0]["id"]} and chunks[0]["id"].startswith("rec-")
    assert json.loads(recorded[3][2])["data"][0]["id"] == "mock-b"  # model ids kept, order too
    assert json.loads(recorded[4][2])["error"]["code"] == "model_not_found"


async def test_recorded_files_follow_the_format(rec_upstream: MockUpstream, tmp_path: Path) -> None:
    client, _ = make_client("record", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID):
            await _exchange(client)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 5 and not any(n.endswith(".tmp") for n in names)
    models = [n for n in names if n.startswith("models-")]
    assert len(models) == 1

    by_endpoint: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        text = (tmp_path / name).read_text()
        assert text.endswith("}\n") and text.startswith('{\n  "test_id"')
        assert "sk-secret" not in text
        data = json.loads(text)
        assert list(data) == ["test_id", "request", "response", "id_normalization_mapping"]
        assert list(data["request"]) == ["method", "url", "headers", "body", "endpoint", "model"]
        assert data["request"]["headers"] == {}
        by_endpoint.setdefault(data["request"]["endpoint"], []).append(data)

    chat = {
        json.dumps(d["request"]["body"], sort_keys=True): d
        for d in by_endpoint["/v1/chat/completions"]
    }
    plain = chat[json.dumps(CHAT, sort_keys=True)]
    key = request_key("POST", plain["request"]["url"], CHAT, TEST_ID)
    assert (tmp_path / f"{key}.json").exists()
    assert plain["request"]["url"] == rec_upstream.base_url + "/v1/chat/completions"
    assert plain["request"]["model"] == "mock-model"
    body = plain["response"]["body"]
    assert body["__type__"] == "openai.types.chat.chat_completion.ChatCompletion"
    assert (body["__data__"]["id"], body["__data__"]["created"]) == (f"rec-{key[:12]}", 0)

    stream = chat[json.dumps(STREAM, sort_keys=True)]["response"]
    assert stream["is_streaming"] is True
    types = {c["__type__"] for c in stream["body"]}
    assert types == {"openai.types.chat.chat_completion_chunk.ChatCompletionChunk"}

    error = chat[json.dumps(BAD, sort_keys=True)]["response"]
    assert error["is_exception"] is True and error["body"] is None
    assert error["exception_data"]["type"] == "BadRequestError"
    assert error["exception_data"]["status_code"] == 400
    assert error["exception_data"]["body"]["code"] == "model_not_found"
    assert error["exception_message"].startswith("Error code: 400 - {'error':")

    (embed,) = by_endpoint["/v1/embeddings"]
    assert embed["response"]["body"]["__type__"] == (
        "openai.types.create_embedding_response.CreateEmbeddingResponse"
    )

    (listing,) = by_endpoint["/v1/models"]
    # As the reference: hashed as POST with body {} and no test id, created kept.
    assert listing["test_id"] is None and listing["request"]["method"] == "POST"
    assert listing["request"]["body"] == {} and listing["request"]["model"] == ""
    assert [m["__type__"] for m in listing["response"]["body"]] == ["openai.types.model.Model"] * 2
    assert listing["response"]["body"][0]["__data__"]["created"] == 1700000001
    model_key = request_key("POST", listing["request"]["url"], {}, None)
    assert models[0].startswith(f"models-{model_key}-")


async def test_openai_sdk_sees_the_same_error_on_replay(
    rec_upstream: MockUpstream, tmp_path: Path
) -> None:
    async def call(mode: str, base_url: str) -> openai.BadRequestError:
        client, _ = make_client(mode, tmp_path, base_url)
        sdk = openai.AsyncOpenAI(base_url=base_url, api_key="k", http_client=client, max_retries=0)
        with using_test_id(TEST_ID), pytest.raises(openai.BadRequestError) as caught:
            await sdk.chat.completions.create(**BAD)
        await sdk.close()
        return caught.value

    recorded = await call("record", rec_upstream.base_url)
    rec_upstream.stop()
    replayed = await call("replay", rec_upstream.base_url)
    assert (replayed.status_code, replayed.body, str(replayed)) == (
        recorded.status_code,
        recorded.body,
        str(recorded),
    )


async def test_record_if_missing_records_once_then_replays(
    rec_upstream: MockUpstream, tmp_path: Path
) -> None:
    client, _ = make_client("record-if-missing", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID):
            first = (await client.post("/chat/completions", json=CHAT)).json()
            other = (await client.post("/embeddings", json=EMBED)).json()
    assert len(rec_upstream.requests) == 2

    client, _ = make_client("record-if-missing", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID):
            again = (await client.post("/chat/completions", json=CHAT)).json()
            assert (await client.post("/embeddings", json=EMBED)).json() == other
    assert again == first
    assert len(rec_upstream.requests) == 2  # nothing new reached the upstream


async def test_identical_requests_in_one_test_replay_in_order(
    rec_upstream: MockUpstream, tmp_path: Path
) -> None:
    client, _ = make_client("record", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID):
            recorded = [
                (await client.post("/chat/completions", json=CHAT)).json() for _ in range(2)
            ]
    texts = [r["choices"][0]["message"]["content"] for r in recorded]
    assert texts == ["answer #1 to: Say hello", "answer #2 to: Say hello"]
    key = request_key("POST", rec_upstream.base_url + "/v1/chat/completions", CHAT, TEST_ID)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{key}-2.json", f"{key}.json"]
    rec_upstream.stop()

    client, transport = make_client("replay", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID):
            replayed = [
                (await client.post("/chat/completions", json=CHAT)).json() for _ in range(3)
            ]
            # Another test's identical request counts from 1 again, and has no recording.
            with using_test_id(TEST_ID + "-other"), pytest.raises(RecordingMissError):
                await client.post("/chat/completions", json=CHAT)
            transport.reset_counters()
            restarted = (await client.post("/chat/completions", json=CHAT)).json()
    # A third call cycles back to the first answer (a re-run test replays its sequence).
    assert replayed == [recorded[0], recorded[1], recorded[0]]
    assert restarted == recorded[0]


async def test_without_a_test_id_the_key_uses_none(
    rec_upstream: MockUpstream, tmp_path: Path
) -> None:
    client, _ = make_client("record", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(None):
            for _ in range(2):  # no test id: repeats share one file, as in the reference
                await client.post("/chat/completions", json=CHAT)
    (path,) = tmp_path.iterdir()
    key = request_key("POST", rec_upstream.base_url + "/v1/chat/completions", CHAT, None)
    assert path.name == f"{key}.json"
    assert load_recording(path)["test_id"] is None


async def test_replay_miss_names_key_test_and_nearest_difference(
    rec_upstream: MockUpstream, tmp_path: Path
) -> None:
    client, _ = make_client("record", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID):
            await client.post("/chat/completions", json=CHAT)
            await client.post("/embeddings", json=EMBED)
    rec_upstream.stop()
    recorded_name = next(p.name for p in tmp_path.iterdir() if "Say hello" in p.read_text())

    changed = {**CHAT, "messages": [{"role": "user", "content": "Say goodbye"}]}
    key = request_key("POST", rec_upstream.base_url + "/v1/chat/completions", changed, TEST_ID)
    client, _ = make_client("replay", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID), pytest.raises(RecordingMissError) as caught:
            await client.post("/chat/completions", json=changed)
    miss = caught.value
    assert (miss.status_code, miss.error_type, miss.code, miss.param) == (
        400,
        "invalid_request_error",
        "replay_miss",
        None,
    )
    assert miss.key == key and miss.test_id == TEST_ID
    message = miss.message
    assert message.startswith("Replay miss (recording mode 'replay'): no recording of POST ")
    assert key in message and f"test id {TEST_ID!r}" in message and recorded_name in message
    assert "body.messages[0].content" in message
    assert "'Say hello'" in message and "'Say goodbye'" in message
    assert "answered" not in message  # nothing upstream was asked


async def test_a_miss_without_a_test_id_says_so(rec_upstream: MockUpstream, tmp_path: Path) -> None:
    client, _ = make_client("record", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID):
            await client.post("/chat/completions", json=CHAT)
    client, _ = make_client("replay", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(None), pytest.raises(RecordingMissError) as caught:
            await client.post("/chat/completions", json=CHAT)
    message = caught.value.message
    assert "no test id" in message and "None" not in message
    assert f"first difference at test_id: recorded {TEST_ID!r}, requested no test id" in message


async def test_the_nearest_recording_is_the_one_with_the_smallest_change(
    rec_upstream: MockUpstream, tmp_path: Path
) -> None:
    """Two recordings each one field away: the model renamed beats another prompt."""
    prompts = {"gpt-4o": "Name a ringed planet.", "gpt-4o-mini": "Say it in capitals."}
    client, _ = make_client("record", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID):
            for model, prompt in prompts.items():
                body = {"model": model, "messages": [{"role": "user", "content": prompt}]}
                await client.post("/chat/completions", json=body)
    by_model = {load_recording(p)["request"]["body"]["model"]: p.name for p in tmp_path.iterdir()}
    client, _ = make_client("replay", tmp_path, rec_upstream.base_url)
    # Each request differs from both recordings in one field; whichever file sorts
    # first, one of the two requests would name the wrong one if ties went by name.
    for model, prompt in prompts.items():
        other = next(m for m in prompts if m != model)
        body = {"model": other, "messages": [{"role": "user", "content": prompt}]}
        async with client:
            with using_test_id(TEST_ID), pytest.raises(RecordingMissError) as caught:
                await client.post("/chat/completions", json=body)
        assert f"Nearest recording: {by_model[model]}; first difference at body.model" in (
            caught.value.message
        )
        client, _ = make_client("replay", tmp_path, rec_upstream.base_url)


async def test_live_mode_passes_through_and_writes_nothing(
    rec_upstream: MockUpstream, tmp_path: Path
) -> None:
    client, _ = make_client("live", tmp_path / "recordings", rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID):
            response = await client.post("/chat/completions", json=CHAT)
    assert response.json()["id"].startswith("chatcmpl-")
    assert not (tmp_path / "recordings").exists()
    assert rec_upstream.requests[0]["headers"]["Authorization"] == "Bearer sk-secret-123"


async def test_pacing_spaces_out_replayed_chunks(
    rec_upstream: MockUpstream, tmp_path: Path
) -> None:
    client, _ = make_client("record", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID):
            await (await client.post("/chat/completions", json=STREAM)).aread()
    client, _ = make_client("replay", tmp_path, rec_upstream.base_url, pacing=0.05)
    async with client:
        with using_test_id(TEST_ID):
            started = time.monotonic()
            async with client.stream("POST", "/chat/completions", json=STREAM) as response:
                parts = [part async for part in response.aiter_bytes()]
            took = time.monotonic() - started
    body = b"".join(parts)
    assert len(parts) > 1 and body.endswith(b"data: [DONE]\n\n")
    # A lower bound only (sleeps cannot be skipped; a busy machine only adds time):
    # every gap between two chunks waited its 50 ms.
    chunks = body.count(b"data: ") - 1  # [DONE] is not a recorded chunk
    assert took >= 0.05 * (chunks - 1)


async def test_run_log_lists_the_files_used(
    rec_upstream: MockUpstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory, log = tmp_path / "rec", tmp_path / "run.log"
    monkeypatch.setenv(RUN_LOG_ENV, str(log))
    client, _ = make_client("record-if-missing", directory, rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID):
            for _ in range(2):
                await client.post("/chat/completions", json=CHAT)
                await client.get("/models")
    assert sorted(log.read_text().splitlines()) == sorted(p.name for p in directory.iterdir())


def test_id_normalization_mapping_is_applied_on_read(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    data = {
        "test_id": "t",
        "request": {"method": "POST", "url": "u", "headers": {}, "body": {"file": "file-abc123"}},
        "response": {
            "body": {"id": "file-abc123", "note": "see file-abc123"},
            "is_streaming": False,
        },
        "id_normalization_mapping": {"file-1": "file-abc123"},
    }
    path.write_text(json.dumps(data))
    loaded = load_recording(path)
    assert loaded["request"]["body"] == {"file": "file-1"}
    assert loaded["response"]["body"] == {"id": "file-1", "note": "see file-1"}
    assert loaded["id_normalization_mapping"] == {}


async def test_counters_are_bounded_and_a_forgotten_test_counts_from_one(
    rec_upstream: MockUpstream, tmp_path: Path
) -> None:
    client, _ = make_client("record", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID):
            first, second = [
                (await client.post("/chat/completions", json=CHAT)).json() for _ in range(2)
            ]
    client, _ = make_client("replay", tmp_path, rec_upstream.base_url, max_counters=1)
    async with client:
        with using_test_id(TEST_ID):
            assert (await client.post("/chat/completions", json=CHAT)).json() == first
        with using_test_id("an invented test id"), pytest.raises(RecordingMissError):
            await client.post("/chat/completions", json=CHAT)  # its counter evicts ours
        with using_test_id(TEST_ID):
            # Counted from 1 again: without the bound this would be the second answer.
            assert (await client.post("/chat/completions", json=CHAT)).json() == first
    assert second != first


async def test_a_test_repeating_one_request_writes_a_bounded_number_of_files(
    rec_upstream: MockUpstream, tmp_path: Path
) -> None:
    client, _ = make_client("record", tmp_path, rec_upstream.base_url, max_repeats=2)
    async with client:
        with using_test_id(TEST_ID):
            for _ in range(5):
                await client.post("/chat/completions", json=CHAT)
    key = request_key("POST", rec_upstream.base_url + "/v1/chat/completions", CHAT, TEST_ID)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{key}-2.json", f"{key}.json"]
    # The files were reused in turn, as replay cycles through them: 1, 2, 1, 2, 1.
    latest = load_recording(tmp_path / f"{key}.json")["response"]["body"]["__data__"]
    assert latest["choices"][0]["message"]["content"] == "answer #5 to: Say hello"


async def test_a_miss_is_explained_off_the_event_loop(
    rec_upstream: MockUpstream, tmp_path: Path
) -> None:
    long_chat = {
        **CHAT,
        "messages": [{"role": "user", "content": f"message {i} " * 20} for i in range(100)],
    }
    client, _ = make_client("record", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID):
            await client.post("/chat/completions", json=CHAT)
            await client.post("/chat/completions", json=long_chat)
    # Many recordings make the nearest-recording search slow (it reads and compares
    # every file), so a hit asked for meanwhile must not wait for it.
    template = next(p for p in tmp_path.iterdir() if "message 99 " in p.read_text()).read_text()
    for i in range(300):
        (tmp_path / f"{i:064x}.json").write_text(template)
    changed = {**long_chat, "messages": [*long_chat["messages"], {"role": "user", "content": "?"}]}
    client, _ = make_client("replay", tmp_path, rec_upstream.base_url)
    async with client:
        with using_test_id(TEST_ID):
            miss = asyncio.create_task(client.post("/chat/completions", json=changed))
            await asyncio.sleep(0.05)  # the miss is being explained now
            hit = await client.post("/chat/completions", json=CHAT)
            assert not miss.done(), "the hit had to wait for the miss's explanation"
            with pytest.raises(RecordingMissError):
                await miss
    assert hit.status_code == 200
