"""The embedded model calls a remote MCP tool: its grammar-constrained tool call runs on
a real FastMCP server started here, and the model answers with the result, in one
response. ``tool_choice`` names the tool, so the call is forced, not hoped for."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import openai

from relaystack.app import build_app
from relaystack.config import parse_config
from tests.support import spec
from tests.support.mcp_servers import tool_server
from tests.support.servers import ServerThread

CHAT_MODEL = "local/smollm2-135m-instruct"


def test_the_local_model_calls_an_mcp_tool_and_reads_its_result(tmp_path: Path) -> None:
    calls: Counter[str] = Counter()
    config = parse_config(
        {
            "providers": [{"type": "local"}],
            "storage": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
        }
    )
    with (
        ServerThread(tool_server("calc", calls).streamable_http_app()) as mcp,
        ServerThread(build_app(config)) as server,
    ):
        client = openai.OpenAI(
            base_url=f"{server.url}/v1", api_key="sk-unused", max_retries=0, timeout=120
        )
        tool = {
            "type": "mcp",
            "server_label": "calc",
            "server_url": f"{mcp.url}/mcp",
            "allowed_tools": ["echo"],
            "require_approval": "never",
        }
        response = client.responses.create(
            model=CHAT_MODEL,
            input="Repeat the word banana.",
            tools=[tool],  # type: ignore[list-item]
            tool_choice={"type": "mcp", "server_label": "calc", "name": "echo"},
            max_tool_calls=1,
            max_output_tokens=24,
            temperature=0,
        )
    data = response.model_dump(exclude_unset=True)
    spec.assert_valid_response(data)
    kinds = [item["type"] for item in data["output"]]
    assert kinds[:2] == ["mcp_list_tools", "mcp_call"], kinds
    ran = data["output"][1]
    assert ran["name"] == "echo" and ran["server_label"] == "calc"
    assert calls["echo"] == 1
    assert ran.get("error") is None
    assert ran["output"] == json.loads(ran["arguments"])["text"]
    # After the forced call the model answers on its own.
    assert kinds[-1] == "message"
