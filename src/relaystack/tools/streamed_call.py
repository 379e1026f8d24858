"""The stream events of a call whose arguments arrive in pieces.

Function, custom and MCP calls all stream as ``<family>.delta`` events, one per piece,
then one ``<family>.done``; they differ only in the family, in what a delta carries (a
custom call's decoded ``input``, not the raw JSON) and in the fields of ``done``. Each
tool keeps those differences and its own item; this builds the events.
"""

from __future__ import annotations

from dataclasses import dataclass

from relaystack.items.events import Event, EventSequence
from relaystack.items.kind import Item


@dataclass(frozen=True)
class CallEvents:
    """One event family, e.g. ``response.function_call_arguments``."""

    family: str

    def delta(self, seq: EventSequence, item: Item, output_index: int, delta: str) -> Event:
        return seq.tool_call(
            f"{self.family}.delta", item_id=item["id"], output_index=output_index, delta=delta
        )

    def done(
        self,
        seq: EventSequence,
        item: Item,
        output_index: int,
        *,
        name: str | None = None,
        arguments: str | None = None,
        input: str | None = None,
    ) -> list[Event]:
        """The one ``done`` event, with the fields given (None: left out)."""
        event = seq.tool_call(
            f"{self.family}.done",
            item_id=item["id"],
            output_index=output_index,
            name=name,
            arguments=arguments,
            input=input,
        )
        return [event]
