"""``SqlStore``: the ``Store`` interface over SQLite or PostgreSQL.

Each method hands one query function (responses_sql.py, conversations_sql.py) to the
runner that suits the database (runners.py); nothing here knows the dialect.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from relaystack.store import conversations_sql as conv
from relaystack.store import limits_sql, prompts_sql
from relaystack.store import responses_sql as resp
from relaystack.store.base import Chain, Item, Order, Page, UsageCounts, UsageKey
from relaystack.store.keys import lookup_key as key
from relaystack.store.keys import lookup_text
from relaystack.store.migrate import upgrade
from relaystack.store.runners import PostgresSettings, Runner, open_runner
from relaystack.store.usage_sql import add_usage, read_usage


def open_failure(exc: BaseException) -> str:
    """Why a store did not open, in one line: the driver's words, without SQLAlchemy's
    statement echo and "Background on this error" link."""
    original = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver's error
    text = str(original if original is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class SqlStore:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    @classmethod
    async def open(cls, url: str, postgres: PostgresSettings | None = None) -> SqlStore:
        runner = open_runner(url, postgres)
        try:
            await runner.write(upgrade)
        except BaseException:
            await runner.close()
            raise
        return cls(runner)

    async def close(self) -> None:
        await self.runner.close()

    # ----- usage -----------------------------------------------------------------

    async def add_usage(self, counts: dict[UsageKey, UsageCounts]) -> None:
        await self.runner.write(add_usage, counts)

    async def usage(
        self, *, owner: str | None = None, since: str | None = None, until: str | None = None
    ) -> list[dict[str, Any]]:
        return await self.runner.read(read_usage, owner, since, until)

    # ----- limits ----------------------------------------------------------------

    async def claim_requests(self, owner: str, now: float, want: int, limit: int) -> int:
        return await self.runner.write(limits_sql.claim_requests, owner, now, want, limit)

    async def window_tokens(self, owner: str, now: float) -> tuple[int, int]:
        return await self.runner.read(limits_sql.window_tokens, owner, now)

    async def claim_leases(
        self, owner: str, now: float, want: int, limit: int, seconds: int
    ) -> list[str]:
        return await self.runner.write(limits_sql.claim_leases, owner, now, want, limit, seconds)

    async def renew_leases(self, leases: list[str], expires_at: float) -> None:
        await self.runner.write(limits_sql.renew_leases, leases, expires_at)

    async def release_leases(self, leases: list[str]) -> None:
        await self.runner.write(limits_sql.release_leases, leases)

    async def count_tokens(self, owner: str, now: float, tokens: int) -> None:
        await self.runner.write(limits_sql.count_tokens, owner, now, tokens)

    async def purge_limits(self, before: float) -> None:
        await self.runner.write(limits_sql.purge, before)

    async def ping(self) -> None:
        """Raise unless the database answers a trivial query."""
        await self.runner.read(_ping)

    # ----- responses -------------------------------------------------------------

    async def save_response(
        self,
        response: dict[str, Any],
        input_items: list[Item],
        owner: str,
        *,
        conversation_id: str | None = None,
    ) -> None:
        await self.runner.write(resp.save_response, response, input_items, owner, conversation_id)

    async def get_response(self, response_id: str, owner: str) -> dict[str, Any] | None:
        return await self.runner.read(resp.get_response, key(response_id), owner)

    async def delete_response(self, response_id: str, owner: str) -> bool:
        return await self.runner.write(resp.delete_response, key(response_id), owner)

    async def list_responses(
        self, owner: str, *, after: str | None, limit: int, order: Order, model: str | None
    ) -> Page:
        return await self.runner.read(
            resp.list_responses, owner, key(after), limit, order, lookup_text(model)
        )

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
        return await self.runner.read(
            resp.list_input_items, key(response_id), owner, key(after), key(before), limit, order
        )

    async def chain(self, response_id: str, owner: str) -> Chain | None:
        return await self.runner.read(resp.chain, key(response_id), owner)

    async def chain_ids(self, response_id: str, owner: str) -> list[str]:
        return await self.runner.read(resp.chain_ids, key(response_id), owner)

    async def find_items(self, item_ids: list[str], owner: str) -> dict[str, Item]:
        return await self.runner.read(resp.find_items, [key(item) for item in item_ids], owner)

    # ----- conversations ---------------------------------------------------------

    async def create_conversation(
        self, conversation: dict[str, Any], items: list[Item], owner: str
    ) -> None:
        await self.runner.write(conv.create_conversation, conversation, items, owner)

    async def get_conversation(self, conversation_id: str, owner: str) -> dict[str, Any] | None:
        return await self.runner.read(conv.get_conversation, key(conversation_id), owner)

    async def update_conversation(
        self, conversation_id: str, owner: str, metadata: dict[str, str]
    ) -> dict[str, Any] | None:
        return await self.runner.write(
            conv.update_conversation, key(conversation_id), owner, metadata
        )

    async def delete_conversation(self, conversation_id: str, owner: str) -> bool:
        return await self.runner.write(conv.delete_conversation, key(conversation_id), owner)

    async def append_conversation_items(
        self, conversation_id: str, owner: str, items: list[Item]
    ) -> None:
        await self.runner.write(conv.append_items, key(conversation_id), owner, items)

    async def conversation_items(self, conversation_id: str, owner: str) -> list[Item] | None:
        return await self.runner.read(conv.conversation_items_of, key(conversation_id), owner)

    async def list_conversation_items(
        self, conversation_id: str, owner: str, *, after: str | None, limit: int, order: Order
    ) -> Page | None:
        return await self.runner.read(
            conv.list_conversation_items, key(conversation_id), owner, key(after), limit, order
        )

    async def get_conversation_item(
        self, conversation_id: str, item_id: str, owner: str
    ) -> Item | None:
        return await self.runner.read(
            conv.get_conversation_item, key(conversation_id), key(item_id), owner
        )

    async def delete_conversation_item(
        self, conversation_id: str, item_id: str, owner: str
    ) -> bool:
        return await self.runner.write(
            conv.delete_conversation_item, key(conversation_id), key(item_id), owner
        )

    # ----- prompts ---------------------------------------------------------------

    async def add_prompt_version(
        self, prompt: dict[str, Any], owner: str, *, new: bool
    ) -> dict[str, Any] | None:
        try:
            return await self.runner.write(prompts_sql.add_version, prompt, owner, new)
        except IntegrityError:  # another replica took the number meanwhile: take the next
            return await self.runner.write(prompts_sql.add_version, prompt, owner, new)

    async def get_prompt(
        self, prompt_id: str, owner: str, version: int | None = None
    ) -> dict[str, Any] | None:
        return await self.runner.read(prompts_sql.get_version, key(prompt_id), owner, version)

    async def list_prompts(
        self, owner: str, *, after: str | None, limit: int, order: Order
    ) -> Page:
        return await self.runner.read(prompts_sql.list_prompts, owner, key(after), limit, order)

    async def delete_prompt(self, prompt_id: str, owner: str) -> bool:
        return await self.runner.write(prompts_sql.delete_prompt, key(prompt_id), owner)


def _ping(connection: Connection) -> None:
    connection.execute(text("SELECT 1"))
