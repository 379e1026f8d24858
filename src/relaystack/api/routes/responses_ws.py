"""``/v1/responses`` over WebSocket (OpenAI's "WebSocket mode"): the upgrade, keyed like
every route (``Authorization: Bearer``); the connection is ``api/responses_socket.py``'s."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.websockets import WebSocket

from relaystack.api.context import owner_of
from relaystack.api.responses_socket import serve_socket

router = APIRouter()


@router.websocket("/v1/responses")
async def responses_socket(socket: WebSocket) -> None:
    owner = owner_of(socket)
    await serve_socket(socket, owner)
