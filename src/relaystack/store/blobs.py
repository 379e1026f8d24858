"""File bytes on local disk: one file per id in a directory, written atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


class DiskBlobs:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, file_id: str, content: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Written beside its final name and renamed: a reader never sees half a file.
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".upload-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
            os.replace(temporary, self._path(file_id))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def read(self, file_id: str) -> bytes | None:
        try:
            return self._path(file_id).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, file_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(file_id).unlink()

    def _path(self, file_id: str) -> Path:
        # Ids are ours ("file-" and hex digits), never a client's path.
        return self.directory / file_id
