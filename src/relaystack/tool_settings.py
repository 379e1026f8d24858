"""The ``tools`` section of the configuration: the tool loop's limits and each server-side
tool's settings. Its own module (imports only the search backends' settings) so that the
tools and the engine read it without depending on the rest of the configuration."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from relaystack.search.config import WebSearchConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class McpConnectorConfig(_Strict):
    """What a request's ``connector_id`` stands for: the server and its credentials."""

    server_url: str
    authorization: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)


class McpConfig(_Strict):
    # Seconds one MCP server gets per listing or call before it counts as unreachable.
    timeout: float = Field(30.0, gt=0)
    # ``require_approval`` for requests that leave it out (OpenAI's default: "always").
    require_approval: Literal["always", "never"] = "always"
    connectors: dict[str, McpConnectorConfig] = Field(default_factory=dict)


class ToolsConfig(_Strict):
    """The server-side tool loop and the tools it runs."""

    # Model calls one response may make before it ends ``incomplete`` (max_tool_rounds).
    max_rounds: int = Field(16, ge=1)
    # The same server-side call (tool and arguments) this many times ends the response
    # ``incomplete`` (repeated_tool_call) instead of looping to ``max_rounds``.
    max_repeated_calls: int = Field(3, ge=1)
    mcp: McpConfig = Field(default_factory=lambda: McpConfig.model_validate({}))
    # The search backend (chosen by ``type``) and the offline corpus of ``web_search``.
    web_search: WebSearchConfig = Field(default_factory=lambda: WebSearchConfig())
