"""The run log: which recordings a run actually used, so stale ones can be pruned.

Format: a text file, one recording file name per line (``<key>.json``,
``<key>-2.json``, ``models-<key>-<digest>.json``), appended as each is replayed or
written. Appends of one short line are atomic on POSIX, so several workers (pytest-xdist,
several server processes) may share one log. A line holding a bare 64-hex key marks
every file of that key as used, for hand-written logs.

Lines starting with ``#`` are notes about a run, not names. The pytest plugin ends each
session with one: ``# run complete: ...`` or ``# run partial: <why>`` (failures,
deselected tests, a subset of the suite), so that ``prune`` can refuse a log that does
not cover every test. The file is appended to, never truncated: it covers every run made
since it was created.

Enabled by the transport's ``run_log`` argument or the environment variable below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
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

    def note(self, text: str) -> None:
        """Append a note about the run (one line, never read as a recording name)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(f"# {' '.join(text.split())}\n")


COMPLETE = "run complete"
PARTIAL = "run partial"


@dataclass
class RunLogContents:
    names: set[str] = field(default_factory=set)
    complete_runs: int = 0
    partial_runs: list[str] = field(default_factory=list)  # why each was partial


def run_log_from(path: Path | None) -> RunLog | None:
    path = path or run_log_path()
    return RunLog(path) if path is not None else None


def run_log_path() -> Path | None:
    env = os.environ.get(RUN_LOG_ENV)
    return Path(env) if env else None


def read_run_log(path: Path) -> RunLogContents:
    contents = RunLogContents()
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line.startswith("#"):
            if line:
                contents.names.add(line)
            continue
        note = line.lstrip("# ")
        if note.startswith(COMPLETE):
            contents.complete_runs += 1
        elif note.startswith(PARTIAL):
            contents.partial_runs.append(note.removeprefix(PARTIAL).lstrip(": "))
    return contents
