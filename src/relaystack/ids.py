"""Ids and clocks, injectable so a replayed run can be made fully deterministic."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def random_id(prefix: str) -> str:
    # 48 hex digits after the prefix, the length OpenAI's own ids have. A prefix may
    # bring its own separator: chat completions are "chatcmpl-...", not "chatcmpl_...".
    separator = "" if prefix.endswith("-") else "_"
    return f"{prefix}{separator}{secrets.token_hex(24)}"


@dataclass
class IdSource:
    """Makes ids like ``resp_…``, ``msg_…``, ``fc_…``. Replace ``make`` for determinism."""

    make: Callable[[str], str] = random_id

    def __call__(self, prefix: str) -> str:
        return self.make(prefix)


@dataclass
class Clock:
    now: Callable[[], float] = field(default=time.time)

    def seconds(self) -> int:
        return int(self.now())
