"""The interface of one tool ``type``: what the engine asks of every tool module.

A tool is offered to the upstream model as one or more chat-completions functions. When
the model calls one, the tool that offered that name (its ``CallHandler``) opens the
output item for the call and names its stream events. Client-side tools (``function``)
end the turn with the call. Server-side tools (``mcp``, ``web_search``) also
implement ``ServerTool``: per response the engine asks each for a ``ToolSession``, which
does the tool's work before the first model call (MCP lists its servers' tools there),
decides what is offered, and runs the calls the model makes; the engine's tool loop
feeds the results back to the model within the same response.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import httpx

from relaystack.ids import IdSource
from relaystack.items.events import Event, EventSequence
from relaystack.items.kind import Item, ItemKind
from relaystack.search.backends import SearchBackends
from relaystack.strict import StrictModel
from relaystack.tool_settings import ToolsConfig
from relaystack.tools.file_search_types import FileSearcher
from relaystack.wire.json import loads_lenient

ChatTool = dict[str, Any]


def arguments_object(arguments: str) -> dict[str, Any] | None:
    """A call's streamed arguments as the JSON object they should be; None when they are
    not one (the model's mistake: the tool then works with what it could read)."""
    try:
        parsed = loads_lenient(arguments or "{}")
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


class CallHandler(Protocol):
    """Who opens, streams and closes the output item of a called chat function."""

    def open_call(self, call_id: str, name: str, ids: IdSource) -> Item:
        """The output item a streamed call of ``name`` opens (status in_progress)."""
        ...

    def arguments_delta(
        self, seq: EventSequence, item: Item, output_index: int, delta: str
    ) -> Event | None:
        """The event for a piece of streamed arguments (None: the item has no such event)."""
        ...

    def close_call(
        self, seq: EventSequence, item: Item, output_index: int, arguments: str
    ) -> list[Event]:
        """Fill in the call's arguments; the events that say the arguments are done."""
        ...


class ToolKind(CallHandler, Protocol):
    tool_type: ClassVar[str]
    # The tool's entry in the request's ``tools``, and its form of ``tool_choice``.
    definition_model: ClassVar[type[StrictModel]]
    choice_model: ClassVar[type[StrictModel] | None]
    # The items a call of this tool produces (and the client may send back).
    item_kinds: ClassVar[tuple[ItemKind, ...]]
    runs_on_server: ClassVar[bool]

    def chat_names(self, definition: Any) -> list[str]:
        """The chat function names this definition offers upstream (known up front)."""
        ...

    def offer(self, definition: Any) -> list[ChatTool]:
        """This definition as chat-completions ``tools`` entries (known up front)."""
        ...

    def chosen_names(self, choice: Any) -> list[str]:
        """The chat function names a ``tool_choice`` of this tool's form selects."""
        ...


class HttpClientFactory(Protocol):
    """Makes the httpx client a tool talks HTTP with: its traffic goes through the
    recording transport, like the upstream model's (same shape as the MCP SDK's)."""

    def __call__(
        self,
        headers: dict[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
        auth: httpx.Auth | None = None,
    ) -> httpx.AsyncClient: ...


@dataclass(frozen=True)
class ToolContext:
    """What a server-side tool gets from the engine for one response."""

    owner: str
    ids: IdSource
    http: HttpClientFactory
    settings: ToolsConfig  # the ``tools`` section of the config: each tool reads its own
    history: Sequence[Item]  # what the turn sees before its output: context, then input
    search: SearchBackends | None = None  # web search's backends (None: not configured)
    include: Sequence[str] = ()  # the request's ``include``
    # Chat names the request's client-side tools take (a server's tool of the same name
    # is offered under another).
    client_names: frozenset[str] = frozenset()
    file_search: FileSearcher | None = None  # vector store search (None: not available)


class ToolSession(Protocol):
    """One server-side tool type's work within one response.

    The engine runs ``opening_items`` before the first model call, then offers
    ``offer()`` and lets ``handlers()`` open the calls the model makes. Each item the
    session runs (opening or call) goes: ``output_item.added``, ``started`` events,
    ``run``, ``ended`` events, ``output_item.done``.
    """

    def opening_items(self) -> list[Item]:
        """Items to run before the first model call, in output order (status in_progress)."""
        ...

    def offer(self) -> list[ChatTool]:
        """The chat functions offered upstream (once the opening items have run)."""
        ...

    def handlers(self) -> Mapping[str, CallHandler]:
        """Chat function name -> who opens its calls."""
        ...

    def chosen_names(self, choice: Any) -> list[str]:
        """The chat names a ``tool_choice`` form of this type selects; a form that names
        nothing offered is a 400 naming ``tool_choice``."""
        ...

    def runs(self, item: Item) -> bool:
        """Whether this closed call item is for the server to run now (an MCP call is;
        an approval request ends the turn like a client-side call)."""
        ...

    def started(self, seq: EventSequence, item: Item, output_index: int) -> list[Event]: ...

    async def run(self, item: Item) -> None:
        """Run it: fill the item's result or error and set its status. A tool error is
        the item's (the model sees it); raise ``ApiError`` only when the whole response
        must fail (a server whose tools cannot be listed)."""
        ...

    def not_run(self, item: Item, reason: str) -> None:
        """Mark a call the server will not run (a cap was reached); the model reads why."""
        ...

    def ended(self, seq: EventSequence, item: Item, output_index: int) -> list[Event]: ...

    def annotations(self, text: str) -> list[dict[str, Any]]:
        """The annotations this tool puts on the answer's ``output_text`` (web search's
        ``url_citation``s)."""
        ...

    def close(self) -> None:
        """The response's rounds are over (or were cut short): release what the session
        holds (MCP's open server sessions). Returns at once; no I/O is awaited."""
        ...


class ServerTool(ToolKind, Protocol):
    """A tool the server runs (``runs_on_server`` is True)."""

    def begin(self, definitions: Sequence[tuple[int, Any]], context: ToolContext) -> ToolSession:
        """This response's session over every definition of this type, each with its
        index in the request's ``tools``. No I/O here: only checks that answer a bad
        request with a 400."""
        ...


def plain_http_client(
    headers: dict[str, str] | None = None,
    timeout: httpx.Timeout | None = None,
    auth: httpx.Auth | None = None,
) -> httpx.AsyncClient:
    """The ``HttpClientFactory`` without recording (live mode)."""
    return httpx.AsyncClient(headers=headers, timeout=timeout, auth=auth)
