"""What the engine needs from storage, and nothing about how it is kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

Order = Literal["asc", "desc"]
Item = dict[str, Any]


@dataclass(frozen=True)
class Chain:
    response_ids: list[str]  # oldest first, ending with the response asked for
    items: list[Item]


@dataclass(frozen=True)
class Page:
    data: list[dict[str, Any]]
    has_more: bool


@dataclass(frozen=True, slots=True)
class UsageKey:
    owner: str
    day: str  # YYYY-MM-DD, UTC
    model: str


@dataclass(slots=True)
class UsageCounts:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


class LimitReached(Exception):
    """A request would go over a limit: nothing was counted for it."""

    def __init__(self, kind: str, limit: int, retry_after: int) -> None:
        super().__init__(kind)
        self.kind = kind  # requests_per_minute, tokens_per_minute, ...
        self.limit = limit
        self.retry_after = retry_after  # seconds until it may pass


class ConversationNotFound(LookupError):
    """The conversation does not exist for this owner (or was deleted meanwhile)."""


class DuplicateItem(ValueError):
    """An appended item reuses the id of an item the conversation already holds."""

    def __init__(self, item_id: str) -> None:
        super().__init__(item_id)
        self.item_id = item_id


class ConversationStore(Protocol):
    """Conversations: an ordered list of items per conversation, owned like responses.

    Every method takes the owner; another owner's conversation answers exactly as a
    missing one (None / False / ConversationNotFound)."""

    async def create_conversation(
        self, conversation: dict[str, Any], items: list[Item], owner: str
    ) -> None: ...

    async def get_conversation(self, conversation_id: str, owner: str) -> dict[str, Any] | None: ...

    async def update_conversation(
        self, conversation_id: str, owner: str, metadata: dict[str, str]
    ) -> dict[str, Any] | None: ...

    async def delete_conversation(self, conversation_id: str, owner: str) -> bool:
        """Delete the conversation and all its items."""

    async def append_conversation_items(
        self, conversation_id: str, owner: str, items: list[Item]
    ) -> None:
        """Append after every item committed so far; raises ConversationNotFound or
        DuplicateItem (and appends nothing)."""

    async def conversation_items(self, conversation_id: str, owner: str) -> list[Item] | None:
        """Every item, oldest first (the context of a new turn); None when not found."""

    async def list_conversation_items(
        self, conversation_id: str, owner: str, *, after: str | None, limit: int, order: Order
    ) -> Page | None: ...

    async def get_conversation_item(
        self, conversation_id: str, item_id: str, owner: str
    ) -> Item | None: ...

    async def delete_conversation_item(
        self, conversation_id: str, item_id: str, owner: str
    ) -> bool: ...


class UsageStore(Protocol):
    """Tokens and requests per owner, model and UTC day, summed over replicas."""

    async def add_usage(self, counts: dict[UsageKey, UsageCounts]) -> None:
        """Add to the stored totals, atomically."""

    async def usage(
        self, *, owner: str | None = None, since: str | None = None, until: str | None = None
    ) -> list[dict[str, Any]]:
        """Rows (``owner, day, model, requests, input_tokens, output_tokens``) ordered by
        day, owner and model; ``since`` / ``until`` are ``YYYY-MM-DD``, both included."""


class LimitStore(Protocol):
    """Counters every replica shares, so that limits hold across them."""

    async def claim_requests(self, owner: str, now: float, want: int, limit: int) -> int:
        """Take up to ``want`` of the current minute's ``limit`` requests: how many were
        granted (at least one), or ``LimitReached`` when none are left."""

    async def window_tokens(self, owner: str, now: float) -> tuple[int, int]:
        """Tokens counted so far in the current minute and UTC day."""

    async def claim_leases(
        self, owner: str, now: float, want: int, limit: int, seconds: int
    ) -> list[str]:
        """Up to ``want`` more of ``owner``'s ``limit`` concurrency slots, as leases that
        expire after ``seconds`` (at least one), or ``LimitReached``."""

    async def renew_leases(self, leases: list[str], expires_at: float) -> None: ...

    async def release_leases(self, leases: list[str]) -> None: ...

    async def count_tokens(self, owner: str, now: float, tokens: int) -> None:
        """Add a finished request's tokens to the current minute and UTC day."""

    async def purge_limits(self, before: float) -> None:
        """Forget windows older than a day before ``before`` and expired leases."""


class PromptStore(Protocol):
    """Reusable prompts: versions numbered 1, 2, ... per prompt, owned like responses."""

    async def add_prompt_version(
        self, prompt: dict[str, Any], owner: str, *, new: bool
    ) -> dict[str, Any] | None:
        """Store the prompt's next version (``version`` set here); None when the prompt
        does not exist for this owner (and ``new`` is false)."""

    async def get_prompt(
        self, prompt_id: str, owner: str, version: int | None = None
    ) -> dict[str, Any] | None:
        """The given version, or the latest; None when not found."""

    async def list_prompts(
        self, owner: str, *, after: str | None, limit: int, order: Order
    ) -> Page: ...

    async def delete_prompt(self, prompt_id: str, owner: str) -> bool: ...


class Store(ConversationStore, UsageStore, LimitStore, PromptStore, Protocol):
    async def save_response(
        self,
        response: dict[str, Any],
        input_items: list[Item],
        owner: str,
        *,
        conversation_id: str | None = None,
    ) -> None:
        """Store a finished response (its output inside) and its input, atomically; with
        ``conversation_id``, append its input then output items to that conversation in
        the same transaction (raises ConversationNotFound, storing nothing)."""

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

    async def find_items(self, item_ids: list[str], owner: str) -> dict[str, Item]:
        """The owner's stored items with these ids (from responses or conversations)."""

    async def chain(self, response_id: str, owner: str) -> Chain | None:
        """What a response leaves behind for ``previous_response_id``: every input and
        output item of it and of the responses it chains from, oldest first, with the
        ids of those responses. None when it does not exist."""

    async def chain_ids(self, response_id: str, owner: str) -> list[str]:
        """The ids of the chain a response ends (oldest first), without its items;
        empty when the response does not exist."""

    async def ping(self) -> None:
        """Raise unless the database answers (the readiness check)."""

    async def close(self) -> None: ...
