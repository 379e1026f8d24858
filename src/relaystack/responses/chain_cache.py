"""What stored responses leave behind for ``previous_response_id``, kept in memory.

Turn N of a chain would otherwise re-read and re-decode all N earlier turns from the
store. Responses never change once stored, so a cached chain is right as long as its
links are: the service walks the ids (cheap, by primary key; another replica may have
deleted one) and falls back to the store when they differ.

The cache is bounded by an approximate size (the JSON size of the items it holds), not
by a count: a few chains of 30 MB inputs would otherwise pin gigabytes. Chains share
their earlier items, so an entry's size is its predecessor's plus what it adds.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, NamedTuple

from relaystack.store.base import Chain
from relaystack.wire.json import dumps

DEFAULT_MAX_BYTES = 256 * 1024 * 1024


class _Entry(NamedTuple):
    chain: Chain
    size: int


class ChainCache:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, owner: str, response_id: str) -> Chain | None:
        key = (owner, response_id)
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry.chain

    def put(self, owner: str, response_id: str, chain: Chain) -> None:
        self.discard(owner, response_id)
        size = self._size_of(owner, chain)
        if size > self.max_bytes:
            return  # larger than the whole cache: the store serves this one
        self._entries[(owner, response_id)] = _Entry(chain, size)
        self.size += size
        while self.size > self.max_bytes:
            _key, evicted = self._entries.popitem(last=False)
            self.size -= evicted.size

    def discard(self, owner: str, response_id: str) -> None:
        entry = self._entries.pop((owner, response_id), None)
        if entry is not None:
            self.size -= entry.size

    def _size_of(self, owner: str, chain: Chain) -> int:
        # Turn N extends turn N-1's chain: measure only what it adds.
        previous = (
            self._entries.get((owner, chain.response_ids[-2]))
            if len(chain.response_ids) > 1
            else None
        )
        if previous is not None and _extends(chain, previous.chain):
            return previous.size + _json_size(chain.items[len(previous.chain.items) :])
        return _json_size(chain.items)


def _extends(chain: Chain, earlier: Chain) -> bool:
    count = len(earlier.items)
    return count <= len(chain.items) and (count == 0 or chain.items[count - 1] is earlier.items[-1])


def _json_size(items: list[Any]) -> int:
    return len(dumps(items)) if items else 0
