"""Reusable prompts: the engine behind ``/v1/prompts``, and the lookup
``prompt: {"id", "version", "variables"}`` on ``/v1/responses`` makes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from relaystack.errors import NotFound, not_found
from relaystack.ids import Clock, IdSource
from relaystack.responses.prompt_templates import PromptBody, PromptRef
from relaystack.store.base import Order, Page, Store


@dataclass
class PromptsService:
    store: Store
    ids: IdSource = field(default_factory=IdSource)
    clock: Clock = field(default_factory=Clock)

    async def create(self, body: PromptBody, owner: str) -> dict[str, Any]:
        prompt = self._version(self.ids("pmpt"), body)
        stored = await self.store.add_prompt_version(prompt, owner, new=True)
        assert stored is not None  # a new prompt always takes its first version
        return stored

    async def add_version(self, prompt_id: str, body: PromptBody, owner: str) -> dict[str, Any]:
        stored = await self.store.add_prompt_version(
            self._version(prompt_id, body), owner, new=False
        )
        if stored is None:
            raise _prompt_not_found(prompt_id, "prompt_id")
        return stored

    def _version(self, prompt_id: str, body: PromptBody) -> dict[str, Any]:
        content = body.model_dump(mode="json", exclude_none=True, by_alias=True)
        return {
            "id": prompt_id,
            "object": "prompt",
            "created_at": self.clock.seconds(),
            "name": body.name,
            "instructions": body.instructions,
            "input": content.get("input"),
        }

    async def get(self, prompt_id: str, owner: str, version: str | None) -> dict[str, Any]:
        number = _version_number(version)
        found = await self.store.get_prompt(prompt_id, owner, number)
        if found is None:
            if number is not None and await self.store.get_prompt(prompt_id, owner) is not None:
                raise NotFound(f"Prompt '{prompt_id}' has no version '{version}'.", param="version")
            raise _prompt_not_found(prompt_id, "prompt_id")
        return found

    async def resolve(self, ref: PromptRef, owner: str) -> dict[str, Any]:
        """The version a response's ``prompt`` names (404s name ``prompt.id`` or
        ``prompt.version``)."""
        number = _version_number(ref.version)
        found = await self.store.get_prompt(ref.id, owner, number)
        if found is not None:
            return found
        if number is not None and await self.store.get_prompt(ref.id, owner) is not None:
            raise NotFound(
                f"Prompt '{ref.id}' has no version '{ref.version}'.", param="prompt.version"
            )
        raise _prompt_not_found(ref.id, "prompt.id")

    async def list(self, owner: str, *, after: str | None, limit: int, order: Order) -> Page:
        return await self.store.list_prompts(owner, after=after, limit=limit, order=order)

    async def delete(self, prompt_id: str, owner: str) -> dict[str, Any]:
        if not await self.store.delete_prompt(prompt_id, owner):
            raise _prompt_not_found(prompt_id, "prompt_id")
        return {"id": prompt_id, "object": "prompt.deleted", "deleted": True}


def _version_number(version: str | None) -> int | None:
    if version is None:
        return None
    if not (version.isascii() and version.isdigit()) or len(version) > 9:
        return 0  # finds nothing: versions are 1, 2, ...
    return int(version)


def _prompt_not_found(prompt_id: str, param: str) -> NotFound:
    return not_found("Prompt", prompt_id, param)
