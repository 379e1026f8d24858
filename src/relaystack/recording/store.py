"""A directory of recordings: a cached index of file names, files loaded on demand.

Replay has to be fast with thousands of files, so the directory is listed once and a
file is parsed only when its key is asked for (then kept). A miss lists the directory
again before giving up, so files written meanwhile by another process are found.
"""

from __future__ import annotations

from pathlib import Path

from relaystack.recording.format import Recording, load_recording, write_recording
from relaystack.recording.keys import RecordingName, parse_filename


class RecordingStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._calls: dict[str, dict[int, str]] | None = None  # key -> occurrence -> name
        self._models: dict[str, list[str]] = {}  # key -> names (one per model set)
        self._loaded: dict[str, Recording] = {}

    def _index(self) -> dict[str, dict[int, str]]:
        if self._calls is None:
            self.rescan()
        assert self._calls is not None
        return self._calls

    def rescan(self) -> None:
        calls: dict[str, dict[int, str]] = {}
        models: dict[str, list[str]] = {}
        names = (
            sorted(p.name for p in self.directory.glob("*.json")) if self.directory.is_dir() else []
        )
        for name in names:
            parsed = parse_filename(name)
            if parsed is None:
                continue
            if parsed.is_models:
                models.setdefault(parsed.key, []).append(name)
            else:
                calls.setdefault(parsed.key, {})[parsed.occurrence] = name
        self._calls, self._models = calls, models

    def names(self) -> list[str]:
        index = self._index()
        out = [name for by_n in index.values() for name in by_n.values()]
        out += [name for names in self._models.values() for name in names]
        return sorted(out)

    def load(self, name: str) -> Recording:
        if name not in self._loaded:
            self._loaded[name] = load_recording(self.directory / name)
        return self._loaded[name]

    def find_call(self, key: str, occurrence: int) -> str | None:
        """The file for the ``occurrence``-th identical call, or ``None``.

        Occurrences 1..m recorded: call n gets ((n - 1) mod m) + 1. With only the
        reference's single file every repeat gets that file (its behaviour), and a test
        run twice in one replay server replays its sequence again instead of sticking
        to the last answer.
        """
        by_n = self._index().get(key)
        if not by_n or 1 not in by_n:
            return None
        count = 1
        while count + 1 in by_n:
            count += 1
        return by_n[(occurrence - 1) % count + 1]

    def find_models(self, key: str) -> list[str]:
        self._index()
        return list(self._models.get(key, []))

    def save(self, name: str, recording: Recording) -> None:
        write_recording(self.directory / name, recording)
        self._loaded[name] = recording
        parsed = parse_filename(name)
        index = self._index()
        if parsed is None:
            return
        if parsed.is_models:
            names = self._models.setdefault(parsed.key, [])
            if name not in names:
                names.append(name)
                names.sort()
        else:
            index.setdefault(parsed.key, {})[parsed.occurrence] = name

    def parsed_names(self) -> list[tuple[str, RecordingName]]:
        return [(n, p) for n in self.names() if (p := parse_filename(n)) is not None]
