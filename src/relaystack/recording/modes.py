"""The record modes, defined once: the transport acts on them, the config checks them."""

from __future__ import annotations

from typing import Literal, get_args

RecordMode = Literal["live", "record", "replay", "record-if-missing"]
RECORD_MODES: tuple[str, ...] = get_args(RecordMode)
