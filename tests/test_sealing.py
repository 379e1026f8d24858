"""Sealed blobs: round trip, tamper evidence, purpose binding, and the app's key sources."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from relaystack.app import build_sealer
from relaystack.config import parse_config
from relaystack.sealing import Sealer, SealError


def test_a_blob_opens_with_the_same_secret_on_another_sealer() -> None:
    blob = Sealer.from_secret("shared by replicas").seal("compaction", b'{"summary": "hi"}')
    assert b"summary" not in blob.encode()
    assert Sealer.from_secret("shared by replicas").unseal("compaction", blob) == (
        b'{"summary": "hi"}'
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda blob: blob[:-2] + ("A" if blob[-2] != "A" else "B") + blob[-1],
        lambda blob: blob[:20],
        lambda blob: "rs1.not base64!",
        lambda blob: "something else",
        lambda blob: "rs1.",
    ],
)
def test_an_altered_blob_does_not_open(change) -> None:  # type: ignore[no-untyped-def]
    sealer = Sealer.from_secret("k")
    blob = sealer.seal("reasoning", b"thoughts")
    with pytest.raises(SealError):
        sealer.unseal("reasoning", change(blob))


def test_a_blob_is_bound_to_its_purpose_and_key() -> None:
    sealer = Sealer.from_secret("k")
    blob = sealer.seal("reasoning", b"thoughts")
    with pytest.raises(SealError):
        sealer.unseal("compaction", blob)
    with pytest.raises(SealError):
        Sealer.from_secret("another").unseal("reasoning", blob)


def test_sqlite_without_a_key_keeps_one_beside_the_database(tmp_path: Path) -> None:
    config = parse_config({"storage": {"url": f"sqlite:///{tmp_path / 'state.db'}"}})
    blob = build_sealer(config).seal("compaction", b"kept")
    key_file = tmp_path / "state.db.sealing-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert build_sealer(config).unseal("compaction", blob) == b"kept"  # after a restart


def test_a_configured_key_wins(tmp_path: Path) -> None:
    config = parse_config(
        {
            "server": {"sealing_key": "operator secret"},
            "storage": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
        }
    )
    blob = build_sealer(config).seal("compaction", b"x")
    assert Sealer.from_secret("operator secret").unseal("compaction", blob) == b"x"
    assert not (tmp_path / "state.db.sealing-key").exists()
