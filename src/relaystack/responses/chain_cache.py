"""The items a stored response leaves behind for ``previous_response_id``, kept in memory.

Turn N of a chain would otherwise re-read and re-decode all N earlier turns from the
store; with this, a chained turn costs one existence check whatever the chain's
length. Responses never change once stored, so an entry stays right until the
response is deleted (here: evicted; on another replica: the existence check says so).
"""

from __future__ import annotations

from collections import OrderedDict

from relaystack.responses.items import Item


class ChainCache:
    def __init__(self, capacity: int = 2048) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[tuple[str, str], list[Item]] = OrderedDict()

    def get(self, owner: str, response_id: str) -> list[Item] | None:
        key = (owner, response_id)
        items = self._entries.get(key)
        if items is not None:
            self._entries.move_to_end(key)
        return items

    def put(self, owner: str, response_id: str, items: list[Item]) -> None:
        key = (owner, response_id)
        self._entries[key] = items
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def discard(self, owner: str, response_id: str) -> None:
        self._entries.pop((owner, response_id), None)
