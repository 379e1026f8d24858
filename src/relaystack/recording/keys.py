"""Request keys and file names, computed exactly as the reference recorder does.

A recording is found by a sha256 key over the method, the *path of the recorded url*,
the normalised body and the test id. Keeping the arithmetic identical to the reference
(OGX, formerly Llama Stack) is what lets us replay its recordings unchanged, so every
quirk here is deliberate and checked against its files:

* the recorded url is the client's base url (ending in ``/v1``) plus the API label
  (``/v1/chat/completions``), so the hashed path is ``/v1/v1/chat/completions``;
* model-list calls were hashed as ``POST`` with body ``{}`` and ``"test_id": null``
  (the reference meant to leave the test id out, but its check compared the label with
  the doubled path and never fired; its model lists are recorded outside any test).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from relaystack.wire.json import dumps_stdlib

# Labels whose recordings are shared by all tests and named ``models-<key>-<digest>``.
MODEL_LIST_LABELS = frozenset({"/v1/models", "/api/tags", "/v1/openai/v1/models"})

# The reference hashed every SDK call as POST, model listing included.
MODEL_LIST_METHOD = "POST"

# Decimal literals inside strings (e.g. a float echoed into a prompt) drift in their last
# digits between runs; rounding them keeps the key stable. The reference's pattern is
# r"(-?\d+\.\d{4,})", which finds the same matches; the look-behind keeps a match from
# starting inside a run of digits, where it could only fail after rescanning the rest of
# the run (quadratic: 40k digits took seconds). Now each digit is looked at a few times.
_FLOAT_IN_STRING = re.compile(r"(-?(?<!\d)\d+\.\d{4,})")

_CALL_FILE = re.compile(r"^(?P<key>[0-9a-f]{64})(?:-(?P<n>[1-9][0-9]*))?\.json$")
_MODELS_FILE = re.compile(r"^models-(?P<key>[0-9a-f]{64})-(?P<digest>[0-9a-f]{8})\.json$")


def normalize_body(value: Any) -> Any:
    """Round floats to 5 decimals, in numbers and in decimal literals inside strings."""
    if isinstance(value, dict):
        return {k: normalize_body(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalize_body(v) for v in value]
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, str) and "." in value:  # most strings have none: skip the scan
        return _FLOAT_IN_STRING.sub(lambda m: f"{float(m.group(0)):.5f}", value)
    return value


def request_key(method: str, url: str, body: Any, test_id: str | None) -> str:
    """The sha256 hex key of one request; ``url`` is the *recorded* url."""
    payload = {
        "method": method.upper(),
        "endpoint": urlsplit(url).path,
        "body": normalize_body(body),
        "test_id": test_id,
    }
    return hashlib.sha256(dumps_stdlib(payload, sort_keys=True).encode()).hexdigest()


def is_model_list(method: str, label: str) -> bool:
    return method.upper() == "GET" and label in MODEL_LIST_LABELS


def models_digest(model_ids: list[str]) -> str:
    """8 hex digits naming one set of model ids (order and duplicates ignored)."""
    joined = "|".join(sorted(set(model_ids)))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:8]


def endpoint_label(base_url: str, url: str) -> tuple[str, str]:
    """Return ``(label, recorded_url)`` for a request to ``url`` made under ``base_url``.

    The label is the OpenAI API path (``/v1/chat/completions``) whatever the upstream's
    own prefix; the recorded url is ``base_url + label`` as the reference wrote it.
    A request outside ``base_url`` is labelled by its own path and recorded as is.
    """
    base = urlsplit(base_url)
    target = urlsplit(url)
    base_path = base.path.rstrip("/")
    under_base = (target.scheme, target.netloc) == (base.scheme, base.netloc) and (
        target.path == base_path or target.path.startswith(base_path + "/")
    )
    if not under_base:
        return target.path, url
    relative = target.path[len(base_path) :] or "/"
    label = relative if relative == "/v1" or relative.startswith("/v1/") else "/v1" + relative
    recorded = base_url.rstrip("/") + label
    if target.query:
        # Visible in the file, though (as in the reference) not part of the key.
        recorded += "?" + target.query
    return label, recorded


def call_filename(key: str, occurrence: int = 1) -> str:
    """``<key>.json`` for the first identical call in a test, ``<key>-<n>.json`` after."""
    return f"{key}.json" if occurrence == 1 else f"{key}-{occurrence}.json"


def models_filename(key: str, digest: str) -> str:
    return f"models-{key}-{digest}.json"


@dataclass(frozen=True)
class RecordingName:
    """What a recording's file name says about it."""

    key: str
    occurrence: int = 1
    digest: str | None = None  # set for model-list recordings

    @property
    def is_models(self) -> bool:
        return self.digest is not None


def parse_filename(name: str) -> RecordingName | None:
    """Parse a recording file name; ``None`` for anything else in the directory."""
    if m := _CALL_FILE.match(name):
        return RecordingName(m["key"], int(m["n"] or 1))
    if m := _MODELS_FILE.match(name):
        return RecordingName(m["key"], 1, m["digest"])
    return None
