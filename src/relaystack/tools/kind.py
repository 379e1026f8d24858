"""The interface of one tool ``type``: what the engine asks of every tool module.

A tool is offered to the upstream model as one or more chat-completions functions. When
the model calls one, the tool that offered that name opens the output item for the
call and names its stream events. Client-side tools (``function``) end the turn with
the call; server-side tools (next: ``mcp``, ``web_search``, ``file_search``) will be run
by the engine's tool loop through ``run``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from relaystack.ids import IdSource
from relaystack.items.events import Event, EventSequence
from relaystack.items.kind import Item, ItemKind
from relaystack.strict import StrictModel

ChatTool = dict[str, Any]


class ToolKind(Protocol):
    tool_type: ClassVar[str]
    # The tool's entry in the request's ``tools``, and its form of ``tool_choice``.
    definition_model: ClassVar[type[StrictModel]]
    choice_model: ClassVar[type[StrictModel] | None]
    # The items a call of this tool produces (and the client may send back).
    item_kinds: ClassVar[tuple[ItemKind, ...]]
    runs_on_server: ClassVar[bool]

    def chat_names(self, definition: Any) -> list[str]:
        """The chat function names this definition offers upstream."""
        ...

    def offer(self, definition: Any) -> list[ChatTool]:
        """This definition as chat-completions ``tools`` entries."""
        ...

    def chosen_names(self, choice: Any) -> list[str]:
        """The chat function names a ``tool_choice`` of this tool's form selects."""
        ...

    def open_call(self, call_id: str, name: str, ids: IdSource) -> Item:
        """The output item a streamed call of ``name`` opens (status in_progress)."""
        ...

    def arguments_delta(
        self, seq: EventSequence, item: Item, output_index: int, delta: str
    ) -> Event: ...

    def close_call(
        self, seq: EventSequence, item: Item, output_index: int, arguments: str
    ) -> list[Event]:
        """Fill in the call's arguments; the events that say the arguments are done."""
        ...
