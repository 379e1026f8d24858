"""Run an ASGI app on a real loopback port in a background thread (tests, the plugin)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerStartError(RuntimeError):
    """The app failed to start; the message carries its reason, the cause its traceback."""


class ServerThread:
    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self._app = app
        # A Starlette app's start-up runs here, not inside uvicorn, so that its failure
        # comes back as the exception it is rather than a logged traceback.
        router = getattr(app, "router", None)
        self._lifespan: Callable[[Any], Any] | None = getattr(router, "lifespan_context", None)
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off" if self._lifespan else "on",
        )
        self._server = uvicorn.Server(config)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        try:
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                runner.run(self._serve())
        except BaseException as exc:  # reported by start() to the thread that waits
            self._failure = exc

    async def _serve(self) -> None:
        lifespan = self._lifespan(self._app) if self._lifespan else contextlib.nullcontext()
        async with lifespan:
            await self._server.serve()

    def start(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive():
                raise self._start_error()
            if time.monotonic() > deadline:
                raise TimeoutError("server did not start within 30 s")
            time.sleep(0.01)
        return self

    def _start_error(self) -> ServerStartError:
        failure = self._failure
        if failure is None or isinstance(failure, SystemExit):
            # uvicorn logs why and exits when it cannot bind.
            reason = f"cannot serve on 127.0.0.1 port {self.port} (see the log)"
        else:
            reason = str(failure) or type(failure).__name__
        error = ServerStartError(f"server did not start: {reason}")
        error.__cause__ = failure
        return error

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed, as uvicorn itself would pick."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
