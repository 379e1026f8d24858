"""What the engine needs from storage, and nothing about how it is kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

Order = Literal["asc", "desc"]
Item = dict[str, Any]


@dataclass(frozen=True)
class Page:
    data: list[dict[str, Any]]
    has_more: bool


class Store(Protocol):
    async def save_response(
        self,
        response: dict[str, Any],
        input_items: list[Item],
        owner: str,
    ) -> None:
        """Store a finished response (its output inside) and its input, atomically."""

    async def get_response(self, response_id: str, owner: str) -> dict[str, Any] | None: ...

    async def delete_response(self, response_id: str, owner: str) -> bool: ...

    async def list_responses(
        self, owner: str, *, after: str | None, limit: int, order: Order, model: str | None
    ) -> Page: ...

    async def list_input_items(
        self,
        response_id: str,
        owner: str,
        *,
        after: str | None,
        before: str | None,
        limit: int,
        order: Order,
    ) -> Page | None:
        """None when the response does not exist for this owner."""

    async def chain_items(self, response_id: str, owner: str) -> list[Item] | None:
        """The context a response leaves behind: every input and output item of it and of
        the responses it chains from, oldest first. None when it does not exist."""

    async def close(self) -> None: ...
