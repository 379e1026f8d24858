"""One thread owns the model; requests take turns on it, first come first served.

A llama.cpp context is not thread-safe and a small machine has no cores to spare for
two generations at once, so every job (chat turn or embedding batch) runs on a single
worker thread, never on the event loop. The waiting line is bounded: when it is full,
``submit`` raises ``Overloaded`` (503) at once instead of letting latency grow without
limit.

A job reports results to the event loop that submitted it through an asyncio queue.
When the consumer goes away (client disconnect: the async generator is closed or its
task cancelled) the job is marked cancelled; a waiting job leaves the line at once and
a running one is expected to poll ``job.cancelled`` between tokens and return, which
frees the model for the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from relaystack.errors import Overloaded

Work = Callable[["Job"], None]


class Job:
    def __init__(self, worker: ModelWorker, work: Work, loop: asyncio.AbstractEventLoop) -> None:
        self._worker = worker
        self._work = work
        self._loop = loop
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._cancelled = threading.Event()

    # --- worker thread side -------------------------------------------------------

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def emit(self, item: Any) -> None:
        """Hand one result to the consumer (called on the worker thread)."""
        self._put("item", item)

    def _run(self) -> None:
        try:
            self._work(self)
        except BaseException as exc:  # the consumer decides what an error means
            self._put("error", exc)
        else:
            self._put("done", None)

    def _put(self, kind: str, value: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, (kind, value))
        except RuntimeError:
            # The consumer's event loop is closed: nobody will read this any more.
            self._cancelled.set()

    # --- event loop side ------------------------------------------------------------

    def cancel(self) -> None:
        """Stop this job: drop it from the line, or ask the running work to return."""
        self._cancelled.set()
        self._worker._discard(self)

    async def results(self) -> AsyncIterator[Any]:
        """The job's items in order; raises what the work raised. Leaving early cancels."""
        try:
            while True:
                kind, value = await self._queue.get()
                if kind == "item":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    return
        finally:
            self.cancel()


class ModelWorker:
    """A single daemon thread running jobs in submission order, ``max_queue`` waiting."""

    def __init__(self, *, max_queue: int, name: str = "relaystack-local-model") -> None:
        self.max_queue = max_queue
        self._name = name
        self._cond = threading.Condition()
        self._waiting: deque[Job] = deque()
        self._running: Job | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._running is not None

    def submit(self, work: Work) -> Job:
        """Queue ``work`` (run on the worker thread); must be called from an event loop."""
        job = Job(self, work, asyncio.get_running_loop())
        with self._cond:
            if self._closed:
                raise Overloaded("The local model is shutting down.")
            in_flight = len(self._waiting) + (1 if self._running is not None else 0)
            if in_flight >= 1 + self.max_queue:
                raise Overloaded(
                    f"The local model is busy: {len(self._waiting)} request(s) are already "
                    "waiting. Retry shortly."
                )
            self._waiting.append(job)
            if self._thread is None:
                # Started on first use so that building a provider costs nothing.
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify()
        return job

    def close(self, timeout: float = 30.0) -> bool:
        """Cancel everything, then wait for the thread to finish (blocking).

        Returns whether it finished: only then may the caller free the models.
        """
        with self._cond:
            self._closed = True
            waiting = list(self._waiting)
            self._waiting.clear()
            running = self._running
            thread = self._thread
            self._cond.notify_all()
        for job in waiting:
            job._cancelled.set()
            job._put("error", Overloaded("The local model is shutting down."))
        if running is not None:
            running._cancelled.set()
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _discard(self, job: Job) -> None:
        with self._cond, contextlib.suppress(ValueError):
            self._waiting.remove(job)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._closed:
                    self._cond.wait()
                if not self._waiting:
                    return  # closed and drained
                job = self._waiting.popleft()
                self._running = job
            try:
                if not job.cancelled:
                    job._run()
            finally:
                with self._cond:
                    self._running = None
