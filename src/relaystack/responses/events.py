"""Response stream events: built here, numbered here, framed elsewhere.

``sequence_number`` starts at 0 and rises by one per event with no gaps, whatever
path (text, tool calls, failure) the turn takes.
"""

from __future__ import annotations

from typing import Any

Event = dict[str, Any]


class EventSequence:
    def __init__(self) -> None:
        self._next = 0

    def event(self, event_type: str, **fields: Any) -> Event:
        event = {"type": event_type, "sequence_number": self._next, **fields}
        self._next += 1
        return event

    def response_event(self, event_type: str, response: dict[str, Any]) -> Event:
        # A snapshot: the live response keeps changing after this event is emitted.
        snapshot = dict(response)
        snapshot["output"] = list(response["output"])
        return self.event(event_type, response=snapshot)
