"""Reusable prompts: ``/v1/prompts`` (versions, owner-scoped) and ``prompt`` on
``/v1/responses``, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.storage.conftest import ALICE_KEY, BOB_KEY
from tests.support.mock_upstream import MockUpstream

MODEL = "openai/gpt-4o"


def _http(base: str, key: str = "x") -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def _create(http: httpx.Client, **body: Any) -> dict[str, Any]:
    answer = http.post("/prompts", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_versions_list_retrieve_delete(backend_server: str) -> None:
    with _http(backend_server) as http:
        first = _create(http, name="greeter", instructions="Greet {{who}}.")
        assert first["id"].startswith("pmpt_") and first["version"] == "1"
        second = http.post(f"/prompts/{first['id']}/versions", json={"instructions": "Hi {{who}}"})
        assert second.json()["version"] == "2"
        assert http.get(f"/prompts/{first['id']}").json()["instructions"] == "Hi {{who}}"
        one = http.get(f"/prompts/{first['id']}", params={"version": "1"}).json()
        assert one["instructions"] == "Greet {{who}}." and one["version"] == "1"
        missing = http.get(f"/prompts/{first['id']}", params={"version": "9"})
        assert missing.status_code == 404 and missing.json()["error"]["param"] == "version"
        listed = http.get("/prompts", params={"limit": 100}).json()["data"]
        mine = [p for p in listed if p["id"] == first["id"]]
        assert [p["version"] for p in mine] == ["2"]
        assert http.delete(f"/prompts/{first['id']}").json()["deleted"] is True
        gone = http.get(f"/prompts/{first['id']}")
        assert gone.status_code == 404 and gone.json()["error"]["param"] == "prompt_id"
        again = http.post(f"/prompts/{first['id']}/versions", json={"instructions": "x"})
        assert again.status_code == 404


def test_a_response_uses_the_prompt_with_its_variables(
    backend_server: str, client: openai.OpenAI, upstream: MockUpstream
) -> None:
    with _http(backend_server) as http:
        prompt = _create(
            http,
            instructions="You help {{customer}}.",
            input=[{"role": "user", "content": "Summarise: {{document}}"}],
        )
        version_two = {"instructions": "v2 {{customer}}", "input": "Shorten: {{document}}"}
        http.post(f"/prompts/{prompt['id']}/versions", json=version_two)
    variables = {
        "customer": "Ada",
        "document": {"type": "input_image", "image_url": "https://example.com/a.png"},
    }
    client.responses.create(
        model=MODEL,
        prompt={"id": prompt["id"], "version": "1", "variables": variables},  # type: ignore[typeddict-item]
        input="Thanks!",
    )
    sent = upstream.requests[-1]["messages"]
    assert sent[0] == {"role": "system", "content": "You help Ada."}
    assert sent[1]["content"] == [
        {"type": "text", "text": "Summarise: "},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
    ]
    assert sent[2] == {"role": "user", "content": "Thanks!"}
    client.responses.create(
        model=MODEL,
        prompt={"id": prompt["id"], "variables": {**variables, "document": "a text"}},  # type: ignore[typeddict-item]
    )
    latest = upstream.requests[-1]["messages"]
    assert latest[0]["content"] == "v2 Ada"
    assert latest[1] == {"role": "user", "content": "Shorten: a text"}


@pytest.mark.parametrize(
    ("prompt", "status", "param"),
    [
        ({"variables": {}}, 400, "prompt.variables.customer"),
        ({"version": "7", "variables": {"customer": "x"}}, 404, "prompt.version"),
        ({"id": "pmpt_missing"}, 404, "prompt.id"),
    ],
)
def test_prompt_errors_name_what_is_wrong(
    backend_server: str,
    client: openai.OpenAI,
    upstream: MockUpstream,
    prompt: dict[str, Any],
    status: int,
    param: str,
) -> None:
    with _http(backend_server) as http:
        created = _create(http, instructions="You help {{customer}}.")
    with pytest.raises(openai.APIStatusError) as caught:
        client.responses.create(model=MODEL, input="hi", prompt={"id": created["id"], **prompt})  # type: ignore[typeddict-item]
    assert caught.value.status_code == status
    assert caught.value.body["param"] == param  # type: ignore[index]
    assert upstream.requests == []


def test_prompts_are_owner_scoped(auth_server: str) -> None:
    with _http(auth_server, ALICE_KEY) as alice, _http(auth_server, BOB_KEY) as bob:
        prompt = _create(alice, instructions="secret")
        assert bob.get(f"/prompts/{prompt['id']}").status_code == 404
        assert bob.post(f"/prompts/{prompt['id']}/versions", json={}).status_code == 404
        assert bob.delete(f"/prompts/{prompt['id']}").status_code == 404
        assert prompt["id"] not in [p["id"] for p in bob.get("/prompts").json()["data"]]
        assert alice.get(f"/prompts/{prompt['id']}").status_code == 200


def test_a_version_of_non_ascii_digits_is_not_found(backend_server: str) -> None:
    # "²" passes str.isdigit() yet int() refuses it: a 404 like any unknown version.
    with _http(backend_server) as http:
        prompt = _create(http, name="digits", instructions="Hello.")
        answer = http.get(f"/prompts/{prompt['id']}", params={"version": "²"})
        assert answer.status_code == 404 and answer.json()["error"]["param"] == "version"
