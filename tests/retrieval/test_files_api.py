"""``/v1/files`` with the openai SDK over HTTP, on SQLite and PostgreSQL: upload, list,
retrieve, content and delete; bad uploads are 4xx; another owner's file is a 404."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.retrieval.conftest import ALICE_KEY, MAX_BYTES


def test_upload_retrieve_content_list_delete(alice: openai.OpenAI) -> None:
    created = alice.files.create(file=("notes.txt", b"hello files"), purpose="assistants")
    assert created.id.startswith("file-")
    assert (created.filename, created.bytes, created.purpose) == ("notes.txt", 11, "assistants")
    assert created.object == "file" and created.status == "processed"

    assert alice.files.retrieve(created.id) == created
    assert alice.files.content(created.id).content == b"hello files"
    assert created.id in [file.id for file in alice.files.list()]
    assert created.id in [file.id for file in alice.files.list(purpose="assistants")]
    assert created.id not in [file.id for file in alice.files.list(purpose="batch")]

    deleted = alice.files.delete(created.id)
    assert (deleted.id, deleted.deleted) == (created.id, True)
    with pytest.raises(openai.NotFoundError):
        alice.files.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        alice.files.content(created.id)


def test_listing_pages_in_order(alice: openai.OpenAI) -> None:
    ids = [
        alice.files.create(file=(f"page{i}.txt", b"x" * (i + 1)), purpose="user_data").id
        for i in range(3)
    ]
    newest_first = [f.id for f in alice.files.list(purpose="user_data", limit=100)]
    assert [i for i in newest_first if i in ids] == ids[::-1]
    first = alice.files.list(purpose="user_data", limit=1, order="asc")
    assert first.has_more
    after = alice.files.list(purpose="user_data", limit=100, order="asc", after=first.data[0].id)
    assert first.data[0].id not in [f.id for f in after.data]


def test_expires_after_sets_expires_at(alice: openai.OpenAI) -> None:
    created = alice.files.create(
        file=("soon.txt", b"gone later"),
        purpose="user_data",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    assert created.expires_at == created.created_at + 3600


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"file": ("a.txt", b"data"), "purpose": "nonsense"}, "purpose"),
        ({"file": ("empty.txt", b""), "purpose": "assistants"}, "file"),
        (
            {
                "file": ("a.txt", b"data"),
                "purpose": "assistants",
                "expires_after": {"anchor": "created_at", "seconds": 5},
            },
            "expires_after.seconds",
        ),
    ],
)
def test_bad_uploads_are_400s(alice: openai.OpenAI, kwargs: dict, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        alice.files.create(**kwargs)
    error = caught.value.body
    assert error["param"] == param and error["type"] == "invalid_request_error"


def test_too_large_is_413_and_stores_nothing(alice: openai.OpenAI) -> None:
    before = {f.id for f in alice.files.list()}
    with pytest.raises(openai.APIStatusError) as caught:
        alice.files.create(file=("big.txt", b"x" * (MAX_BYTES + 1)), purpose="assistants")
    assert caught.value.status_code == 413
    assert caught.value.body["code"] == "file_too_large"
    assert {f.id for f in alice.files.list()} == before


def test_not_multipart_or_no_file_is_400(files_server: str) -> None:
    headers = {"Authorization": f"Bearer {ALICE_KEY}"}
    as_json = httpx.post(f"{files_server}/files", json={"purpose": "assistants"}, headers=headers)
    assert as_json.status_code == 400 and as_json.json()["error"]["param"] == "file"
    no_file = httpx.post(
        f"{files_server}/files",
        data={"purpose": "assistants"},
        files={"attachment": ("a.txt", b"not the file field")},
        headers=headers,
    )
    assert no_file.status_code == 400
    assert no_file.json()["error"]["code"] == "missing_required_parameter"


def test_another_owners_file_is_not_found(alice: openai.OpenAI, bob: openai.OpenAI) -> None:
    mine = alice.files.create(file=("private.txt", b"alice only"), purpose="assistants")
    for call in (bob.files.retrieve, bob.files.content, bob.files.delete):
        with pytest.raises(openai.NotFoundError):
            call(mine.id)
    assert mine.id not in [f.id for f in bob.files.list()]
    assert alice.files.content(mine.id).content == b"alice only"


@pytest.mark.parametrize("seconds", ["²", "abc", "-5", "1.5"])
def test_expires_after_seconds_not_a_number_is_400(files_server: str, seconds: str) -> None:
    # "²" passes str.isdigit() yet int() refuses it: it must not become a 500.
    response = httpx.post(
        f"{files_server}/files",
        data={
            "purpose": "assistants",
            "expires_after[anchor]": "created_at",
            "expires_after[seconds]": seconds,
        },
        files={"file": ("a.txt", b"data")},
        headers={"Authorization": f"Bearer {ALICE_KEY}"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "expires_after.seconds"
    assert error["type"] == "invalid_request_error"
