"""The ``mcp`` tool: a remote MCP server's tools, run by relaystack within the response.

Per response, an ``McpSession`` lists each server's tools (an ``mcp_list_tools`` item;
not again when the turn's history already lists the same server), offers them to the
model, and runs the calls it makes (``mcp_call`` items), or asks the user first
(``mcp_approval_request``, which ends the turn) when ``require_approval`` says so. An
approved request is run once, before the first model call of the next turn. Each
server gets one SDK session per response (``McpConnection``), closed when it ends.
Credentials (``authorization``, ``headers``) reach the server only: they are left out of
the echoed and stored tools, and recordings keep no headers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from relaystack.errors import ApiError, InvalidRequest
from relaystack.ids import IdSource
from relaystack.items.events import Event, EventSequence
from relaystack.items.kind import Item, ItemKind
from relaystack.strict import StrictModel
from relaystack.tools.kind import ChatTool, ToolContext
from relaystack.tools.mcp_client import McpConnection, McpServer, McpUnavailable
from relaystack.tools.mcp_items import (
    MCP_APPROVAL_REQUEST,
    MCP_APPROVAL_RESPONSE,
    MCP_CALL,
    MCP_LIST_TOOLS,
    McpApprovalRequestItem,
    McpListToolsItem,
    new_call,
)
from relaystack.tools.streamed_call import CallEvents
from relaystack.wire.json import loads_lenient

# ----- the tool definition and its tool_choice ---------------------------------------


class ToolFilter(StrictModel):
    tool_names: list[str] | None = None
    read_only: bool | None = None


class ApprovalFilter(StrictModel):
    always: ToolFilter | None = None
    never: ToolFilter | None = None


class McpDefinition(StrictModel):
    type: Literal["mcp"]
    server_label: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    server_url: str | None = None
    connector_id: str | None = None
    # Secrets: sent to the server, never echoed in the response's ``tools`` nor stored.
    headers: dict[str, str] | None = Field(None, exclude=True)
    authorization: str | None = Field(None, exclude=True, repr=False)
    allowed_tools: list[str] | ToolFilter | None = None
    require_approval: Literal["always", "never"] | ApprovalFilter | None = None
    server_description: str | None = None

    @field_validator("server_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"'{url}' is not an http(s) URL of an MCP server")
        return url

    @field_validator("headers")
    @classmethod
    def _no_authorization_header(cls, headers: dict[str, str] | None) -> dict[str, str] | None:
        if headers and any(name.lower() == "authorization" for name in headers):
            raise ValueError(
                "the Authorization header goes in the 'authorization' parameter "
                "(the token alone), not in 'headers'"
            )
        return headers

    @model_validator(mode="after")
    def _one_server(self) -> McpDefinition:
        if (self.server_url is None) == (self.connector_id is None):
            raise ValueError("give exactly one of 'server_url' or 'connector_id'")
        return self


class McpChoice(StrictModel):
    type: Literal["mcp"]
    server_label: str
    name: str | None = None


# ----- the tool ----------------------------------------------------------------------


class McpTool:
    tool_type: ClassVar[str] = "mcp"
    definition_model: ClassVar[type[StrictModel]] = McpDefinition
    choice_model: ClassVar[type[StrictModel] | None] = McpChoice
    item_kinds: ClassVar[tuple[ItemKind, ...]] = (
        MCP_LIST_TOOLS,
        MCP_CALL,
        MCP_APPROVAL_REQUEST,
        MCP_APPROVAL_RESPONSE,
    )
    runs_on_server: ClassVar[bool] = True

    # Known only once listed: the session answers these.
    def chat_names(self, definition: McpDefinition) -> list[str]:
        return []

    def offer(self, definition: McpDefinition) -> list[ChatTool]:
        return []

    def chosen_names(self, choice: McpChoice) -> list[str]:
        return []

    # Calls are opened by the session's handlers, which know the server.
    def open_call(self, call_id: str, name: str, ids: IdSource) -> Item:
        raise NotImplementedError("an MCP call is opened by its server's handler")

    def arguments_delta(
        self, seq: EventSequence, item: Item, output_index: int, delta: str
    ) -> Event | None:
        return None

    def close_call(
        self, seq: EventSequence, item: Item, output_index: int, arguments: str
    ) -> list[Event]:
        return []

    def begin(
        self, definitions: Sequence[tuple[int, McpDefinition]], context: ToolContext
    ) -> McpSession:
        return McpSession(definitions, context)


MCP = McpTool()


# ----- one response's servers --------------------------------------------------------


@dataclass
class _Server:
    definition: McpDefinition
    param: str  # where it is in the request: tools[i]
    connection: McpConnection  # opened by its first operation, closed with the response
    listing: McpListToolsItem


class McpSession:
    def __init__(
        self, definitions: Sequence[tuple[int, McpDefinition]], context: ToolContext
    ) -> None:
        self._context = context
        self._servers: dict[str, _Server] = {}
        self._opening: list[Item] = []
        for position, definition in definitions:
            param = f"tools[{position}]"
            if definition.server_label in self._servers:
                raise InvalidRequest(
                    f"Duplicate MCP server_label '{definition.server_label}'.",
                    param=f"{param}.server_label",
                    code="invalid_value",
                )
            listed = _listed_before(context.history, definition.server_label)
            listing = listed or _new_listing(context.ids("mcpl"), definition.server_label)
            if listed is None:
                self._opening.append(listing)  # type: ignore[arg-type]
            server = _Server(definition, param, self._connect(definition, param), listing)
            self._servers[definition.server_label] = server
        self._opening += self._approved_calls()
        self._names: dict[str, tuple[_Server, str]] = {}

    def _connect(self, definition: McpDefinition, param: str) -> McpConnection:
        return McpConnection(self._server(definition, param), self._context.http)

    def _server(self, definition: McpDefinition, param: str) -> McpServer:
        settings = self._context.settings.mcp
        if definition.connector_id is None:
            assert definition.server_url is not None
            return McpServer(
                definition.server_url,
                settings.timeout,
                dict(definition.headers or {}),
                definition.authorization,
            )
        connector = settings.connectors.get(definition.connector_id)
        if connector is None:
            raise InvalidRequest(
                f"Unknown connector_id '{definition.connector_id}': this server has no "
                "such connector configured.",
                param=f"{param}.connector_id",
                code="invalid_value",
            )
        return McpServer(
            connector.server_url,
            settings.timeout,
            {**connector.headers, **(definition.headers or {})},
            definition.authorization or connector.authorization,
        )

    def _approved_calls(self) -> list[Item]:
        """The approved requests this turn answers: each runs once, now."""
        history = self._context.history
        requests = {i["id"]: i for i in history if i["type"] == "mcp_approval_request"}
        answered = {i["approval_request_id"] for i in history if i["type"] == "mcp_call"}
        calls: list[Item] = []
        for item in history:
            if item["type"] != "mcp_approval_response":
                continue
            request_id = item["approval_request_id"]
            request = requests.get(request_id)
            if request is None or request_id in answered:
                word = "Unknown" if request is None else "Already answered"
                raise InvalidRequest(
                    f"{word} approval request id '{request_id}'.",
                    param="input",
                    code="invalid_value",
                )
            answered.add(request_id)
            if not item["approve"] or request["server_label"] not in self._servers:
                continue
            call = new_call(self._context.ids("mcp"), request["server_label"], request["name"])
            call["arguments"] = request["arguments"]
            call["approval_request_id"] = request_id
            calls.append(dict(call))
        return calls

    # ----- the ToolSession interface ---------------------------------------------

    def opening_items(self) -> list[Item]:
        return self._opening

    def offer(self) -> list[ChatTool]:
        self._names = {}
        offered: list[ChatTool] = []
        for server in self._servers.values():
            for tool in server.listing["tools"]:
                name = tool["name"]
                if name in self._names or name in self._context.client_names:
                    # two servers' tools of one name, or a client function's name
                    name = f"{server.definition.server_label}__{name}"
                self._names[name] = (server, tool["name"])
                function: dict[str, Any] = {"name": name, "parameters": tool["input_schema"]}
                if tool.get("description"):
                    function["description"] = tool["description"]
                offered.append({"type": "function", "function": function})
        return offered

    def handlers(self) -> Mapping[str, _CallOpener]:
        if not self._names:
            self.offer()
        return {
            name: _CallOpener(
                server.definition.server_label, tool, self._needs_approval(server, tool)
            )
            for name, (server, tool) in self._names.items()
        }

    def chosen_names(self, choice: McpChoice) -> list[str]:
        if not self._names:
            self.offer()
        return [
            name
            for name, (server, tool) in self._names.items()
            if server.definition.server_label == choice.server_label and choice.name in (None, tool)
        ]

    def runs(self, item: Item) -> bool:
        return item["type"] == "mcp_call" and item["server_label"] in self._servers

    def started(self, seq: EventSequence, item: Item, output_index: int) -> list[Event]:
        kind = "mcp_list_tools" if item["type"] == "mcp_list_tools" else "mcp_call"
        return [_event(seq, f"response.{kind}.in_progress", item, output_index)]

    async def run(self, item: Item) -> None:
        server = self._servers[item["server_label"]]
        if item["type"] == "mcp_list_tools":
            await self._list(server, item)
        else:
            await self._call(server, item)

    def not_run(self, item: Item, reason: str) -> None:
        item["status"] = "failed"
        item["error"] = f"Not run: {reason}."

    def ended(self, seq: EventSequence, item: Item, output_index: int) -> list[Event]:
        kind = "mcp_list_tools" if item["type"] == "mcp_list_tools" else "mcp_call"
        outcome = "failed" if item.get("error") else "completed"
        return [_event(seq, f"response.{kind}.{outcome}", item, output_index)]

    def annotations(self, text: str) -> list[dict[str, Any]]:
        return []

    def close(self) -> None:
        for server in self._servers.values():
            server.connection.close()

    # ----- running ---------------------------------------------------------------

    def _needs_approval(self, server: _Server, tool: str) -> bool:
        rule = server.definition.require_approval
        if rule is None:
            rule = self._context.settings.mcp.require_approval
        if isinstance(rule, str):
            return rule == "always"
        if rule.never is not None and tool in (rule.never.tool_names or ()):
            return False
        if rule.always is not None and tool in (rule.always.tool_names or ()):
            return True
        return self._context.settings.mcp.require_approval == "always"

    async def _list(self, server: _Server, item: Item) -> None:
        label = server.definition.server_label
        try:
            tools = await server.connection.list_tools()
        except McpUnavailable as exc:
            item["error"] = f"Error retrieving tool list from MCP server: '{label}'. {exc}"
            raise ApiError(
                item["error"],
                param=f"{server.param}.server_url",
                code="http_error",
                status_code=424,
                error_type="external_connector_error",
            ) from None
        item["tools"] = _allowed(tools, server.definition.allowed_tools)

    async def _call(self, server: _Server, item: Item) -> None:
        try:
            arguments = loads_lenient(item["arguments"] or "{}")
            if not isinstance(arguments, dict):
                raise ValueError("the arguments are not a JSON object")
        except ValueError as exc:
            item["status"], item["error"] = "failed", f"Invalid arguments: {exc}"
            return
        try:
            output, is_error = await server.connection.call_tool(item["name"], arguments)
        except McpUnavailable as exc:
            item["status"], item["error"] = "failed", f"Error calling the MCP server: {exc}"
            return
        if is_error:
            item["status"], item["error"] = "failed", output
        else:
            item["status"], item["output"] = "completed", output


_CALL_EVENTS = CallEvents("response.mcp_call_arguments")


class _CallOpener:
    """Opens the model's call of one MCP tool: an ``mcp_call`` the server runs, or an
    ``mcp_approval_request`` that ends the turn."""

    def __init__(self, server_label: str, tool: str, needs_approval: bool) -> None:
        self._server_label = server_label
        self._tool = tool
        self._needs_approval = needs_approval

    def open_call(self, call_id: str, name: str, ids: IdSource) -> Item:
        # Ids from the model's call id: the next round's upstream body (a recording key)
        # then repeats exactly on replay.
        if self._needs_approval:
            request: McpApprovalRequestItem = {
                "id": f"mcpr_{call_id}",
                "type": "mcp_approval_request",
                "server_label": self._server_label,
                "name": self._tool,
                "arguments": "",
            }
            return dict(request)
        return dict(new_call(f"mcp_{call_id}", self._server_label, self._tool))

    def arguments_delta(
        self, seq: EventSequence, item: Item, output_index: int, delta: str
    ) -> Event | None:
        if item["type"] != "mcp_call":
            return None
        return _CALL_EVENTS.delta(seq, item, output_index, delta)

    def close_call(
        self, seq: EventSequence, item: Item, output_index: int, arguments: str
    ) -> list[Event]:
        item["arguments"] = arguments
        if item["type"] != "mcp_call":
            return []
        return _CALL_EVENTS.done(seq, item, output_index, arguments=arguments)


def _event(seq: EventSequence, type: str, item: Item, output_index: int) -> Event:
    return seq.tool_call(type, item_id=item["id"], output_index=output_index)


def _new_listing(item_id: str, server_label: str) -> McpListToolsItem:
    return {"id": item_id, "type": "mcp_list_tools", "server_label": server_label, "tools": []}


def _listed_before(history: Sequence[Item], server_label: str) -> McpListToolsItem | None:
    for item in reversed(history):
        if (
            item["type"] == "mcp_list_tools"
            and item["server_label"] == server_label
            and not item.get("error")
        ):
            return item  # type: ignore[return-value]
    return None


def _allowed(tools: list[dict[str, Any]], allowed: list[str] | ToolFilter | None) -> list[Any]:
    if allowed is None:
        return tools
    if isinstance(allowed, list):
        return [tool for tool in tools if tool["name"] in allowed]
    kept = tools
    if allowed.tool_names is not None:
        kept = [tool for tool in kept if tool["name"] in allowed.tool_names]
    if allowed.read_only:
        kept = [tool for tool in kept if (tool.get("annotations") or {}).get("readOnlyHint")]
    return kept
