"""``input_file`` and ``input_image`` parts given by ``file_id``: read from the Files store.

A chat-completions upstream takes a file's bytes, not an id; so before a turn runs, each
such part gets the file's bytes as a data URL (``file_data`` and ``filename``, or
``image_url``), and keeps its ``file_id``. The owner's files only: another owner's file
is a 404 exactly like a missing one.
"""

from __future__ import annotations

import base64
import mimetypes
from typing import Any, Protocol

from relaystack.errors import NotFound
from relaystack.items.kind import Item


class FileReader(Protocol):
    async def file_content(
        self, file_id: str, owner: str, now: int
    ) -> tuple[dict[str, Any], bytes] | None: ...


def _wanting_files(items: list[Item]) -> list[tuple[int, dict[str, Any]]]:
    """``(item index, part)`` for every part that names a file_id and has no bytes."""
    found = []
    for index, item in enumerate(items):
        content = item.get("content")
        if item.get("type") != "message" or not isinstance(content, list):
            continue
        for part in content:
            kind = part.get("type")
            if "file_id" not in part:
                continue
            if (kind == "input_file" and "file_data" not in part) or (
                kind == "input_image" and "image_url" not in part
            ):
                found.append((index, part))
    return found


async def resolve_file_inputs(
    items: list[Item], files: FileReader | None, owner: str, now: int, param: str = "input"
) -> None:
    """Fill in the bytes of every part given by ``file_id`` (in place)."""
    for index, part in _wanting_files(items):
        file_id = part["file_id"]
        found = await files.file_content(file_id, owner, now) if files is not None else None
        if found is None:
            raise NotFound(
                f"No such File object: {file_id}", param=f"{param}[{index}]", code="not_found"
            )
        file, content = found
        mime = mimetypes.guess_type(file["filename"])[0] or "application/octet-stream"
        data_url = f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"
        if part["type"] == "input_image":
            part["image_url"] = data_url
        else:
            part["file_data"] = data_url
            part.setdefault("filename", file["filename"])
