"""One Responses WebSocket connection: turns one after another, each framed like SSE.

The engine is the HTTP route's: ``prepare`` then ``events``; each event leaves as one
text message holding the event's JSON (what an SSE ``data:`` line holds). A message is
read only once the turn before it has ended, so a connection runs one turn at a time
and its events never interleave.

The connection remembers its last completed response (OpenAI's connection-local
cache), stored or not: a turn with ``store: false`` can be continued by
``previous_response_id`` on the same socket, though nothing was stored. Any other
previous response is found in the store, as over HTTP. A turn that fails (an
``error`` event or ``response.failed``) forgets it, so a client never builds on a
state it did not see completed; a message that is no turn at all (not JSON, not
``response.create``) changes nothing. A turn whose items hold a compaction (made by
``context_management`` or sent back from ``/v1/responses/compact``) is remembered from
that compaction on: the turns it summarised leave memory as they left the context.
Every failure before a turn starts (a malformed message, an unknown id, a refused
limit) is an ``error`` event and the socket stays open for the next message.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from relaystack.api.admission import admit
from relaystack.api.body import typed_message
from relaystack.api.limits import BodyLimits
from relaystack.api.socket_messages import NotATurn, check_size, error_event, parse_create
from relaystack.api.socket_turns import turn_record
from relaystack.errors import ApiError
from relaystack.observability.record import RequestRecord
from relaystack.observability.recorder import Recorder
from relaystack.responses.compaction import since_latest_compaction
from relaystack.responses.request import CreateResponseRequest
from relaystack.responses.service import ResponsesService, Turn
from relaystack.store.base import Chain
from relaystack.wire.json import dumps_str

log = logging.getLogger(__name__)

_CONTINUABLE = ("completed", "incomplete")


@dataclass
class _Last:
    """The connection's last response that may be continued, with its chain."""

    response_id: str
    chain: Chain


class ResponsesSocket:
    def __init__(self, socket: WebSocket, owner: str) -> None:
        state = socket.app.state
        self.socket = socket
        self.owner = owner
        self.service: ResponsesService = state.responses
        self.recorder: Recorder = state.recorder
        self.limits: BodyLimits = state.limits
        self.max_bytes: int = state.max_body_bytes
        self._last: _Last | None = None

    async def run(self) -> None:
        """Serve turns until the client closes the socket."""
        while True:
            message = await self.socket.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("bytes")
            if raw is None:
                raw = (message.get("text") or "").encode()
            try:
                await self._turn(raw)
            except WebSocketDisconnect:
                return

    async def _turn(self, raw: bytes) -> None:
        async with turn_record(self.recorder, self.owner) as record:
            turn = await self._start(raw, record)
            if turn is None:
                return
            record.status = 200
            try:
                # Closed at once when the client leaves: the turn stops and is stored
                # as cancelled, as when an SSE client leaves.
                async with contextlib.aclosing(self.service.events(turn)) as events:
                    async for event in events:
                        await self._send(event)
            finally:
                await turn.close()
            self._remember(turn)

    async def _start(self, raw: bytes, record: RequestRecord) -> Turn | None:
        """The prepared turn, or None once its refusal has been sent."""
        try:
            request = await self._request(raw)
            await admit(self.socket, self.owner)
            return await self.service.prepare(request, self.owner, self._previous(request))
        except ApiError as error:
            if not isinstance(error, NotATurn):  # no turn at all: nothing changes
                self._last = None
            await self._refuse(record, error)
        except Exception:  # a bug: this turn fails, the connection stays
            log.exception("a WebSocket turn failed before it started")
            self._last = None
            await self._refuse(record, _server_error())
        return None

    async def _request(self, raw: bytes) -> CreateResponseRequest:
        check_size(raw, self.max_bytes)
        return await typed_message(raw, self.limits, parse_create)

    def _previous(self, request: CreateResponseRequest) -> Chain | None:
        """The chain ``previous_response_id`` names when it is this connection's last
        response; otherwise the engine looks it up in the store (or refuses it)."""
        last = self._last
        if last is not None and request.previous_response_id == last.response_id:
            return last.chain
        return None

    def _remember(self, turn: Turn) -> None:
        response = turn.response
        # Stored or not: a stored turn chained to an unstored one has a context the
        # store cannot rebuild (its walk ends at the unstored link), and only this
        # connection still holds it.
        if response["status"] in _CONTINUABLE:
            self._last = _Last(response["id"], self._trimmed(turn.chain_after()))
        else:
            self._last = None

    def _trimmed(self, chain: Chain) -> Chain:
        """The chain from its latest compaction on: a long socket session holds only
        what the upstream will still read, not every turn the summary replaced."""
        items = since_latest_compaction(chain.items, self.service.sealer, self.owner)
        return Chain(response_ids=chain.response_ids, items=items)

    async def _refuse(self, record: RequestRecord, error: ApiError) -> None:
        record.status = error.status_code
        await self._send(error_event(error))

    async def _send(self, event: Any) -> None:
        try:
            await self.socket.send_text(dumps_str(event))
        except (RuntimeError, OSError) as exc:
            # The client went away mid-turn: the engine stores the turn as cancelled.
            raise WebSocketDisconnect(1006) from exc


def _server_error() -> ApiError:
    return ApiError(
        "The server had an error while processing your request.",
        status_code=500,
        error_type="server_error",
        code="server_error",
    )


async def serve_socket(socket: WebSocket, owner: str) -> None:
    await socket.accept()
    with contextlib.suppress(WebSocketDisconnect):
        await ResponsesSocket(socket, owner).run()
