"""The bench's MCP server: the official SDK's FastMCP over Streamable HTTP, one ``add``
tool, on loopback.

Run: ``python -m bench.mcp_server --port 9200`` from the repository root; it prints
``MCP READY port=P`` once it listens, and serves ``http://127.0.0.1:P/mcp``.
"""

from __future__ import annotations

import argparse
import asyncio

import uvicorn
from mcp.server.fastmcp import FastMCP

from bench.netguard import require_loopback


def build_server() -> FastMCP:
    server = FastMCP("bench", log_level="WARNING")

    @server.tool(description="Add two integers.")
    def add(a: int, b: int) -> int:
        return a + b

    return server


async def serve(host: str, port: int) -> None:
    config = uvicorn.Config(
        build_server().streamable_http_app(), host=host, port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
            return
        await asyncio.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1]
    # One line on stdout that the parent process waits for.
    print(f"MCP READY port={bound}", flush=True)
    await task


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.mcp_server", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9200, help="0 picks a free port")
    args = p.parse_args(argv)
    require_loopback(args.host)
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
