"""Stateless reasoning: a reasoning item's text sealed into its ``encrypted_content``.

A client that keeps no state on the server (``store: false``) asks with ``include:
["reasoning.encrypted_content"]``; each reasoning item of the answer then carries its
content and summary sealed with the server's key (``sealing.Sealer``, purpose
``reasoning``). Sent back on a later turn, the blob is opened and the item gets its text
again, so the turn's context is what a stored chain would have given. A blob that does
not open (altered, another server's key, not ours) is a 400 naming the item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from relaystack.errors import InvalidRequest
from relaystack.items.kind import Item
from relaystack.sealing import Sealer, SealError
from relaystack.wire.json import dumps, loads_lenient

PURPOSE = "reasoning"
INCLUDE_ENCRYPTED = "reasoning.encrypted_content"


def sealer_for(include: Sequence[str] | None, sealer: Sealer) -> Callable[[Item], None]:
    """The ``TurnStream.finish_reasoning`` hook: seals when the request asks."""
    if INCLUDE_ENCRYPTED not in (include or ()):
        return lambda item: None
    return lambda item: seal(item, sealer)


def seal(item: Item, sealer: Sealer) -> None:
    payload = {"summary": item.get("summary", []), "content": item.get("content", [])}
    item["encrypted_content"] = sealer.seal(PURPOSE, dumps(payload))


def open_sealed(items: list[Item], sealer: Sealer, param: str = "input") -> None:
    """Give each reasoning item with an ``encrypted_content`` its text back (in place).
    ``items`` are the request's input, in its order."""
    for index, item in enumerate(items):
        blob = item.get("encrypted_content") if item["type"] == "reasoning" else None
        if blob is None:
            continue
        try:
            payload = loads_lenient(sealer.unseal(PURPOSE, blob))
        except SealError as exc:
            raise InvalidRequest(
                f"The encrypted content of reasoning item '{item['id']}' could not be "
                f"verified: {exc}.",
                param=f"{param}[{index}].encrypted_content",
                code="invalid_encrypted_content",
            ) from exc
        if not item.get("content"):
            item["content"] = payload.get("content", [])
        if not item.get("summary"):
            item["summary"] = payload.get("summary", [])
