"""An upstream that answers chat completions with bytes chosen by the test, verbatim.

For failures the scriptable mock cannot produce because it always sends valid JSON:
a ``data:`` line that is not JSON, a body that is not SSE at all.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class RawUpstream:
    def __init__(self) -> None:
        self.body = b"data: [DONE]\n\n"
        self.media_type = "text/event-stream"
        self.status = 200
        self.headers: dict[str, str] = {}
        self.app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])

    def answer(
        self,
        body: bytes,
        media_type: str = "text/event-stream",
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.body, self.media_type, self.status = body, media_type, status
        self.headers = headers or {}

    async def _chat(self, request: Request) -> Response:
        await request.body()
        return Response(
            self.body, status_code=self.status, media_type=self.media_type, headers=self.headers
        )
