"""What stored responses leave behind for ``previous_response_id``, kept in memory.

Turn N of a chain would otherwise re-read and re-decode all N earlier turns from the
store. Responses never change once stored, so a cached chain is right as long as its
links are: the service walks the ids (cheap, by primary key; another replica may have
deleted one) and falls back to the store when they differ.
"""

from __future__ import annotations

from collections import OrderedDict

from relaystack.store.base import Chain


class ChainCache:
    def __init__(self, capacity: int = 2048) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[tuple[str, str], Chain] = OrderedDict()

    def get(self, owner: str, response_id: str) -> Chain | None:
        key = (owner, response_id)
        chain = self._entries.get(key)
        if chain is not None:
            self._entries.move_to_end(key)
        return chain

    def put(self, owner: str, response_id: str, chain: Chain) -> None:
        key = (owner, response_id)
        self._entries[key] = chain
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def discard(self, owner: str, response_id: str) -> None:
        self._entries.pop((owner, response_id), None)
