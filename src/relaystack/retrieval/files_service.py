"""Uploading, listing, reading and deleting files: the engine behind ``/v1/files``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from relaystack.errors import ApiError, InvalidRequest, NotFound
from relaystack.ids import Clock, IdSource
from relaystack.store.base import Order, Page
from relaystack.store.files_base import FileStore

PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
# OpenAI's bounds for ``expires_after.seconds``: an hour to 30 days.
MIN_EXPIRY, MAX_EXPIRY = 3600, 30 * 24 * 3600


class FileTooLarge(ApiError):
    status_code = 413


def file_not_found(file_id: str, param: str | None = None) -> NotFound:
    return NotFound(f"No such File object: {file_id}", param=param, code="not_found")


@dataclass
class FilesService:
    files: FileStore
    max_bytes: int
    ids: IdSource = field(default_factory=IdSource)
    clock: Clock = field(default_factory=Clock)

    def check_size(self, size: int) -> None:
        if size > self.max_bytes:
            raise FileTooLarge(
                f"The file is {size} bytes; files may be at most {self.max_bytes} bytes.",
                param="file",
                code="file_too_large",
            )

    async def upload(
        self,
        owner: str,
        filename: str,
        purpose: str,
        content: bytes,
        expires_after: tuple[str, int] | None = None,
    ) -> dict[str, Any]:
        if purpose not in PURPOSES:
            raise InvalidRequest(
                f"Invalid value for 'purpose': '{purpose}'. Supported values are: "
                + ", ".join(f"'{name}'" for name in PURPOSES)
                + ".",
                param="purpose",
                code="invalid_value",
            )
        if not content:
            raise InvalidRequest("The uploaded file is empty.", param="file", code="empty_file")
        self.check_size(len(content))
        name = filename.strip() or "upload"
        if len(name) > 1000 or "\x00" in name:
            raise InvalidRequest("The file name is not valid.", param="file")
        now = self.clock.seconds()
        row = {
            "id": self.ids("file-"),
            "owner": owner,
            "created_at": now,
            "expires_at": now + _expiry(expires_after) if expires_after else None,
            "filename": name,
            "purpose": purpose,
            "bytes": len(content),
        }
        return await self.files.save_file(row, content)

    async def get(self, file_id: str, owner: str) -> dict[str, Any]:
        found = await self.files.get_file(file_id, owner, self.clock.seconds())
        if found is None:
            raise file_not_found(file_id)
        return found

    async def content(self, file_id: str, owner: str) -> tuple[dict[str, Any], bytes]:
        found = await self.files.file_content(file_id, owner, self.clock.seconds())
        if found is None:
            raise file_not_found(file_id)
        return found

    async def list_files(
        self, owner: str, *, purpose: str | None, after: str | None, limit: int, order: Order
    ) -> Page:
        return await self.files.list_files(
            owner, purpose=purpose, after=after, limit=limit, order=order, now=self.clock.seconds()
        )

    async def delete(self, file_id: str, owner: str) -> dict[str, Any]:
        if not await self.files.delete_file(file_id, owner):
            raise file_not_found(file_id)
        return {"id": file_id, "object": "file", "deleted": True}


def _expiry(expires_after: tuple[str, int]) -> int:
    anchor, seconds = expires_after
    if anchor != "created_at":
        raise InvalidRequest(
            "expires_after[anchor] must be 'created_at'.",
            param="expires_after.anchor",
            code="invalid_value",
        )
    if not MIN_EXPIRY <= seconds <= MAX_EXPIRY:
        raise InvalidRequest(
            f"expires_after[seconds] must be between {MIN_EXPIRY} and {MAX_EXPIRY}.",
            param="expires_after.seconds",
            code="invalid_value",
        )
    return seconds
