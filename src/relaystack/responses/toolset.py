"""The tools of one response: client-side definitions offered as they are, and one
session per server-side tool type (``ToolSession``), which decides what it offers once
its opening items (an MCP server's tool listing) have run.

The engine asks this, never a tool by name: a new server-side tool is its own module and
a line in the catalog.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, cast

from relaystack.catalog import TOOL_KINDS
from relaystack.errors import InvalidRequest
from relaystack.items.kind import Item
from relaystack.responses.request import AllowedTools, CreateResponseRequest
from relaystack.responses.upstream_request import Offer, chosen_names
from relaystack.tools.kind import CallHandler, ChatTool, ServerTool, ToolContext, ToolSession

_FORCING_CHOICES = ("required",)


class ToolSet:
    def __init__(self, request: CreateResponseRequest, context: ToolContext) -> None:
        self._request = request
        definitions: dict[str, list[tuple[int, Any]]] = {}
        for index, definition in enumerate(request.tools or []):
            definitions.setdefault(definition.type, []).append((index, definition))
        server_side = [t for t in definitions if TOOL_KINDS[t].runs_on_server]
        if server_side:
            context = replace(context, client_names=_client_names(request))
        self._sessions: dict[str, ToolSession] = {
            tool_type: cast(ServerTool, TOOL_KINDS[tool_type]).begin(
                definitions[tool_type], context
            )
            for tool_type in server_side
        }

    @property
    def has_server_tools(self) -> bool:
        return bool(self._sessions)

    def opening_items(self) -> list[tuple[ToolSession, Item]]:
        return [(s, item) for s in self._sessions.values() for item in s.opening_items()]

    def handlers(self) -> dict[str, CallHandler]:
        found: dict[str, CallHandler] = {
            name: TOOL_KINDS[tool.type]
            for tool in self._request.tools or []
            for name in TOOL_KINDS[tool.type].chat_names(tool)
        }
        for session in self._sessions.values():
            found.update(session.handlers())
        return found

    def session_running(self, item: Item) -> ToolSession | None:
        """The session that runs this closed call item now, if any."""
        return next((s for s in self._sessions.values() if s.runs(item)), None)

    def runs(self, item: Item) -> bool:
        return self.session_running(item) is not None

    def offer(self, first_round: bool, server_tools: bool = True) -> Offer:
        """What one model call is offered. A forced ``tool_choice`` forces the first call
        only (later ones answer with the results); without ``server_tools`` (the
        response used up ``max_tool_calls``) only client-side tools are offered."""
        tools: list[ChatTool] = [
            chat_tool
            for definition in self._request.tools or []
            for chat_tool in TOOL_KINDS[definition.type].offer(definition)
        ]
        if server_tools:
            tools += [tool for session in self._sessions.values() for tool in session.offer()]
        choice = self._request.tool_choice
        if not first_round and (choice in _FORCING_CHOICES or _names_one(choice)):
            choice = "auto"
        if not server_tools and choice is not None and not isinstance(choice, str):
            choice = "auto"
        return Offer(tools=tools, names_of=self.names_of, choice=choice)

    def close(self) -> None:
        """The rounds are over: every session lets go of what it holds."""
        for session in self._sessions.values():
            session.close()

    def annotations(self, text: str) -> list[dict[str, Any]]:
        """What the server-side tools annotate an ``output_text`` of the answer with."""
        return [note for session in self._sessions.values() for note in session.annotations(text)]

    def names_of(self, form: Any) -> list[str]:
        session = self._sessions.get(form.type)
        if session is not None:
            return session.chosen_names(form)
        return TOOL_KINDS[form.type].chosen_names(form)

    def check_choice(self) -> None:
        """Once the opening items ran: a ``tool_choice`` naming a server-side tool that is
        not offered is a 400, as a missing function is."""
        offered = {tool["function"]["name"] for tool in self.offer(first_round=True).tools}
        choice = self._request.tool_choice
        if choice == "required" and not offered:
            raise required_without_tools()
        forms: Sequence[Any] = []
        if isinstance(choice, AllowedTools):
            forms = choice.tools
        elif choice is not None and not isinstance(choice, str):
            forms = [choice]
        for form in forms:
            if form.type in self._sessions and not set(chosen_names(form, self.names_of)) & offered:
                raise InvalidRequest(
                    f"Tool choice {form.model_dump(exclude_none=True)} matches no tool "
                    "the server offers.",
                    param="tool_choice",
                    code="invalid_value",
                )


def required_without_tools() -> InvalidRequest:
    """``tool_choice: "required"`` with nothing to call: before the opening items (no
    tool at all) or after them (no server offered one)."""
    return InvalidRequest(
        "Tool choice 'required' needs at least one tool in 'tools'.",
        param="tool_choice",
        code="invalid_value",
    )


def _client_names(request: CreateResponseRequest) -> frozenset[str]:
    """The chat names the request's client-side tools take."""
    return frozenset(
        name
        for tool in request.tools or []
        if not TOOL_KINDS[tool.type].runs_on_server
        for name in TOOL_KINDS[tool.type].chat_names(tool)
    )


def _names_one(choice: Any) -> bool:
    return choice is not None and not isinstance(choice, str | AllowedTools)
