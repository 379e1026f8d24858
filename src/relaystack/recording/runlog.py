"""The run log: which recordings a run actually used, so stale ones can be pruned.

Format: a text file, one recording file name per line (``<key>.json``,
``<key>-2.json``, ``models-<key>-<digest>.json``), appended as each is replayed or
written. Appends of one short line are atomic on POSIX, so several workers (pytest-xdist,
several server processes) may share one log. A line holding a bare 64-hex key marks
every file of that key as used, for hand-written logs.

Enabled by the transport's ``run_log`` argument or the environment variable below.
"""

from __future__ import annotations

import os
from pathlib import Path

RUN_LOG_ENV = "RELAYSTACK_RECORDINGS_RUN_LOG"


class RunLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: set[str] = set()  # one line per file per process is enough

    def mark(self, name: str) -> None:
        if name in self._seen:
            return
        self._seen.add(name)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(name + "\n")


def run_log_from(path: Path | None) -> RunLog | None:
    if path is None and (env := os.environ.get(RUN_LOG_ENV)):
        path = Path(env)
    return RunLog(path) if path is not None else None


def read_run_log(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
