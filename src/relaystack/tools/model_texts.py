"""What the model read of recent server-side tool calls, by item id.

A search tool's results are long; the item keeps only what clients may see (and that
only with ``include``). A chained turn in the same process gives the model the same
text again from here; older calls fall back to what their items keep. Bounded, so a
busy process holds only the most recent calls.
"""

from __future__ import annotations

from collections import OrderedDict


class ModelTexts:
    def __init__(self, kept: int = 1024) -> None:
        self._kept = kept
        self._texts: OrderedDict[str, str] = OrderedDict()

    def keep(self, item_id: str, text: str) -> None:
        self._texts[item_id] = text
        while len(self._texts) > self._kept:
            self._texts.popitem(last=False)

    def get(self, item_id: str) -> str | None:
        return self._texts.get(item_id)
