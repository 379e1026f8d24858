"""The items of the ``mcp`` tool, in OpenAI's shapes, and what the model sees of them.

``mcp_list_tools`` (a server's tools) goes nowhere upstream: what it lists is offered as
chat functions. An ``mcp_call`` is an assistant tool call followed by its result (the
output, or the error the model should read). An ``mcp_approval_request`` is a tool call
the user answers with an ``mcp_approval_response``, which the model reads as the call's
result: approved (the call then follows as an ``mcp_call``) or refused, with the reason.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, NotRequired, TypedDict

from relaystack.ids import IdSource
from relaystack.items.kind import ChatMessage, Item, stored_form
from relaystack.items.status import ItemStatus
from relaystack.strict import StrictModel
from relaystack.tools.function import append_call

McpCallStatus = Literal["in_progress", "completed", "incomplete", "calling", "failed"]


class ListedTool(TypedDict):
    name: str
    input_schema: dict[str, Any]
    description: NotRequired[str]
    annotations: dict[str, Any] | None


class McpListToolsItem(TypedDict):
    id: str
    type: Literal["mcp_list_tools"]
    server_label: str
    tools: list[ListedTool]
    error: NotRequired[str]


class McpCallItem(TypedDict):
    id: str
    type: Literal["mcp_call"]
    status: McpCallStatus
    server_label: str
    name: str
    arguments: str
    output: str | None
    error: str | None
    approval_request_id: NotRequired[str]


class McpApprovalRequestItem(TypedDict):
    id: str
    type: Literal["mcp_approval_request"]
    server_label: str
    name: str
    arguments: str


class McpApprovalResponseItem(TypedDict):
    id: str
    type: Literal["mcp_approval_response"]
    approval_request_id: str
    approve: bool
    reason: NotRequired[str]


# ----- as clients send them back ----------------------------------------------------


class McpListToolsInput(StrictModel):
    type: Literal["mcp_list_tools"]
    id: str
    server_label: str
    tools: list[dict[str, Any]]
    error: str | None = None


class McpCallInput(StrictModel):
    type: Literal["mcp_call"]
    id: str
    server_label: str
    name: str
    arguments: str
    output: str | None = None
    error: str | None = None
    status: McpCallStatus | None = None
    approval_request_id: str | None = None


class McpApprovalRequestInput(StrictModel):
    type: Literal["mcp_approval_request"]
    id: str
    server_label: str
    name: str
    arguments: str


class McpApprovalResponseInput(StrictModel):
    type: Literal["mcp_approval_response"]
    id: str | None = None
    approval_request_id: str
    approve: bool
    reason: str | None = None


# ----- the kinds ---------------------------------------------------------------------


class McpListToolsKind:
    item_type: ClassVar[str] = "mcp_list_tools"
    input_model: ClassVar[type[StrictModel]] = McpListToolsInput

    def normalize(self, raw: McpListToolsInput, ids: IdSource) -> Item:
        return raw.model_dump(exclude_none=True)

    def to_chat(self, item: Item, messages: list[ChatMessage]) -> None:
        return  # the listed tools are offered as chat functions instead


class McpCallKind:
    item_type: ClassVar[str] = "mcp_call"
    input_model: ClassVar[type[StrictModel]] = McpCallInput

    def normalize(self, raw: McpCallInput, ids: IdSource) -> Item:
        item = raw.model_dump(exclude_none=True)
        item.setdefault("status", "completed")
        item.setdefault("output", None)
        item.setdefault("error", None)
        return item

    def to_chat(self, item: Item, messages: list[ChatMessage]) -> None:
        append_call(messages, item["id"], item["name"], item["arguments"])
        result = item["output"] if item.get("error") is None else f"Error: {item['error']}"
        messages.append({"role": "tool", "tool_call_id": item["id"], "content": result or ""})


class McpApprovalRequestKind:
    item_type: ClassVar[str] = "mcp_approval_request"
    input_model: ClassVar[type[StrictModel]] = McpApprovalRequestInput

    def normalize(self, raw: McpApprovalRequestInput, ids: IdSource) -> Item:
        return raw.model_dump(exclude_none=True)

    def to_chat(self, item: Item, messages: list[ChatMessage]) -> None:
        append_call(messages, item["id"], item["name"], item["arguments"])


class McpApprovalResponseKind:
    item_type: ClassVar[str] = "mcp_approval_response"
    input_model: ClassVar[type[StrictModel]] = McpApprovalResponseInput

    def normalize(self, raw: McpApprovalResponseInput, ids: IdSource) -> Item:
        return stored_form(raw, "mcpr", ids)

    def to_chat(self, item: Item, messages: list[ChatMessage]) -> None:
        if item["approve"]:
            answer = "The user approved this call; it runs next."
        else:
            answer = "The user refused this call; do not make it."
            if item.get("reason"):
                answer += f" Reason: {item['reason']}"
        messages.append(
            {"role": "tool", "tool_call_id": item["approval_request_id"], "content": answer}
        )


MCP_LIST_TOOLS = McpListToolsKind()
MCP_CALL = McpCallKind()
MCP_APPROVAL_REQUEST = McpApprovalRequestKind()
MCP_APPROVAL_RESPONSE = McpApprovalResponseKind()


def new_call(
    item_id: str, server_label: str, name: str, status: ItemStatus = "in_progress"
) -> McpCallItem:
    return {
        "id": item_id,
        "type": "mcp_call",
        "status": status,
        "server_label": server_label,
        "name": name,
        "arguments": "",
        "output": None,
        "error": None,
    }
