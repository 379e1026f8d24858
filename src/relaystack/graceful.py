"""uvicorn's server, stopped gracefully by SIGTERM or SIGINT and then left to exit.

uvicorn re-raises the signal that stopped it once it has served its last request,
which ends the process before relaystack's own shutdown (background jobs, pending
saves, closing the store) has run. Here the signal only starts the shutdown: uvicorn
stops accepting and gives open requests ``timeout_graceful_shutdown`` seconds, the
caller then runs the app's shutdown within what is left of the same grace, and the
process exits 0. A second SIGINT still forces uvicorn out at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Generator
from types import FrameType

import uvicorn

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_signal: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_signal = on_signal  # runs in the signal handler: set flags only
        self.signalled_at: float | None = None  # time.monotonic() of the first signal

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.signalled_at is None:
            self.signalled_at = time.monotonic()
            self.on_signal()
        super().handle_exit(sig, frame)
