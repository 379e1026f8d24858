"""Store operations timed (and traced): a ``Runner`` around the store's own.

Every store method hands one named query function to its runner, so wrapping the
runner sees every operation, by that function's name, without touching the store.
"""

from __future__ import annotations

import time
from typing import Any

from relaystack.observability.recorder import Recorder
from relaystack.store.runners import Runner, T, Work


class TimedRunner:
    def __init__(self, inner: Runner, recorder: Recorder) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self._recorder = recorder

    async def read(self, work: Work[T], *args: Any) -> T:
        started = time.perf_counter()
        span = self._recorder.store_span(work.__name__, self.dialect)
        try:
            return await self.inner.read(work, *args)
        finally:
            self._recorder.store_done(work.__name__, time.perf_counter() - started, span)

    async def write(self, work: Work[T], *args: Any) -> T:
        started = time.perf_counter()
        span = self._recorder.store_span(work.__name__, self.dialect)
        try:
            return await self.inner.write(work, *args)
        finally:
            self._recorder.store_done(work.__name__, time.perf_counter() - started, span)

    async def close(self) -> None:
        await self.inner.close()
