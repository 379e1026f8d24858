"""Background responses: answered at once as ``queued``, run by a worker on any replica.

A submission stores the response (``queued``), its input, a job row and the stream's
first two events in one transaction. Each replica runs up to ``concurrency`` jobs: it
takes queued ones from the database (woken by its own submissions, polling for other
replicas'), runs each through the same engine path as a foreground turn, and hands
the events to the event log, which writes them in batches and renews the replica's
leases. The end of a turn (its response, output, conversation items and last events)
is one transaction that also deletes the job.

A replica that dies stops renewing: once its lease expires, any replica ends the job
``failed`` with an error that says so. It is not retried: clients following the
stream have already seen part of the first attempt, and a second one would answer
differently. Jobs still queued lose nothing; any replica takes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from relaystack.background_config import BackgroundConfig
from relaystack.errors import ApiError, InvalidRequest, Overloaded
from relaystack.items.events import Event, EventSequence
from relaystack.responses.event_log import ENDED, EventLog
from relaystack.responses.request import CreateResponseRequest
from relaystack.responses.service import ResponsesService, Resumed, Turn
from relaystack.store.jobs_base import Claimed, EventRow, JobStore, QueueFull
from relaystack.wire.json import dumps_str

log = logging.getLogger(__name__)

LOST = {
    "code": "server_error",
    "message": "The server running this background response stopped before it finished "
    "(its lease expired); the response was not retried.",
}
SHUTDOWN = {
    "code": "server_error",
    "message": "The server shut down before this background response finished.",
}
_BUG = {
    "code": "server_error",
    "message": "The server had an error while running this background response.",
}
# Submission logs response.created and response.queued as events 0 and 1; the worker's
# own response.created is dropped and its later events move up by one.
_SUBMITTED_EVENTS = 1
_CANCEL_WAIT = 10.0  # seconds a cancel waits for a running turn to stop
_SAVE_WAIT = 30.0


@dataclass
class _Running:
    """One job this replica runs."""

    response_id: str
    task: asyncio.Task[None] | None = None  # the turn's events, once started
    stop_reason: str | None = None  # cancel | shutdown | lost
    last_number: int = _SUBMITTED_EVENTS
    logged_through: int = -1  # events up to this number are written by the end
    stored: bool = False
    saved: asyncio.Event = field(default_factory=asyncio.Event)

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        if self.task is not None:
            self.task.cancel()


class BackgroundWorkers:
    def __init__(self, service: ResponsesService, jobs: JobStore, config: BackgroundConfig) -> None:
        self.service = service
        self.jobs = jobs
        self.config = config
        self.worker_id = secrets.token_hex(8)
        self.log = EventLog(jobs, config.follow_interval)
        self._running: dict[str, _Running] = {}
        self._supervisors: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._busy = asyncio.Event()  # set when a job starts: the flush loop ticks
        # The log's batches and a turn's end are written one at a time, in order, so
        # that a stream never sees a later event before an earlier one.
        self._writing = asyncio.Lock()
        self._last_renew = 0.0
        self._stopping = False
        self.draining = False  # a stop signal came: take and accept no more jobs

    @property
    def _lease_ms(self) -> int:
        return int(self.config.lease_seconds * 1000)

    async def start(self) -> None:
        try:
            self.log.notified = await self.jobs.listen(self.log.written)
        except Exception:  # streams still follow, by polling
            log.exception("cannot listen for other replicas' events; polling instead")
        loop = asyncio.get_running_loop()
        self._loops = [loop.create_task(self._claim_loop()), loop.create_task(self._flush_loop())]

    # ----- the HTTP side ---------------------------------------------------------

    async def submit(self, request: CreateResponseRequest, owner: str) -> dict[str, Any]:
        if self._stopping or self.draining:
            raise Overloaded("The server is shutting down; try another replica.")
        turn = await self.service.prepare(request, owner)
        response = turn.response
        response["status"] = "queued"
        numbers = EventSequence()
        events = [
            numbers.response("response.created", response),
            numbers.response("response.queued", response),
        ]
        rows = [(response["id"], event["sequence_number"], dumps_str(event)) for event in events]
        try:
            await self.jobs.submit(
                dict(response),
                turn.input_items,
                owner,
                request.model_dump(mode="json", by_alias=True, exclude_unset=True),
                rows,
                self.config.max_queued,
            )
        except QueueFull:
            raise Overloaded(
                f"Too many background responses are queued ({self.config.max_queued}); "
                "try again later."
            ) from None
        self._wake.set()
        return dict(response)

    async def follow(self, response_id: str, owner: str, after: int | None) -> AsyncIterator[Event]:
        """Check the stream may be read (404, 400) before the first byte; then the
        events after ``after`` (all when None), live until the end."""
        response = await self.service.get(response_id, owner)
        if not response.get("background"):
            raise InvalidRequest(
                "Only responses created with background=true can be streamed again.",
                param="stream",
                code="invalid_value",
            )
        return self.log.follow(response_id, -1 if after is None else after)

    async def cancel(self, response_id: str, owner: str) -> dict[str, Any]:
        state = await self.jobs.request_cancel(response_id, owner)
        if state is None:
            return _cancelled_already(await self.service.get(response_id, owner))
        if state == "cancelled":  # it was still queued
            self.log.written([response_id])
            return await self.service.get(response_id, owner)
        running = self._running.get(response_id)
        if running is not None:
            running.stop("cancel")
        # Elsewhere, its replica reads the request on its next flush.
        deadline = time.monotonic() + _CANCEL_WAIT
        while True:
            response = await self.service.get(response_id, owner)
            if response["status"] in ENDED or time.monotonic() > deadline:
                return response
            await asyncio.sleep(0.02)

    # ----- the workers -----------------------------------------------------------

    async def _claim_loop(self) -> None:
        last_reap = 0.0
        while not self._stopping:
            self._wake.clear()
            free = 0 if self.draining else self.config.concurrency - len(self._running)
            claimed: list[Claimed] = []
            try:
                if free > 0:
                    claimed = await self.jobs.claim(self.worker_id, _now_ms(), self._lease_ms, free)
                if time.monotonic() - last_reap > self.config.lease_seconds / 2:
                    last_reap = time.monotonic()
                    self.log.written(await self.jobs.reap(_now_ms(), LOST))
            except Exception:
                log.exception("background jobs could not be claimed")
            for job in claimed:
                self._start(job)
            if claimed and len(claimed) == free:
                continue  # there may be more
            # A replica alone on SQLite hears of every job from its own submissions.
            interval = self.config.poll_interval if self.jobs.shared else 5.0
            interval = min(interval, self.config.lease_seconds / 2)  # the reaper's turn
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)

    def _start(self, job: Claimed) -> None:
        running = _Running(job.response_id)
        self._running[job.response_id] = running
        self._busy.set()
        supervisor = asyncio.get_running_loop().create_task(self._run(job, running))
        self._supervisors.add(supervisor)
        supervisor.add_done_callback(self._supervisors.discard)

    async def _run(self, job: Claimed, running: _Running) -> None:
        """Run one job to its stored end, whatever happens to the turn."""
        turn: Turn | None = None
        try:
            turn = await self._turn(job, running)
            if turn is None:
                return
            running.task = asyncio.get_running_loop().create_task(self._events(running, turn))
            await asyncio.wait([running.task])  # ends, fails, or is cancelled: no raise
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(running.saved.wait(), _SAVE_WAIT)
            if not running.stored:  # the end could not be stored (or never came)
                fallback = SHUTDOWN if running.stop_reason == "shutdown" else LOST
                await self._fail(running, _error_of(turn.failure, fallback))
        except Exception:
            log.exception("background response %s failed", job.response_id)
            with contextlib.suppress(Exception):
                await self._fail(running, _BUG)
        finally:
            if turn is not None:
                await turn.close()
            del self._running[job.response_id]
            self._wake.set()  # a slot is free

    async def _turn(self, job: Claimed, running: _Running) -> Turn | None:
        """The job's turn, ready to run; None when it ended before it could start (a
        request that no longer holds, e.g. its previous response was deleted; a cancel
        or a shutdown meanwhile)."""
        try:
            request = CreateResponseRequest.model_validate(job.request)
            turn = await self.service.prepare(
                request, job.owner, resume=Resumed(job.response, job.input_items)
            )
        except ApiError as error:
            await self._fail(running, _error_of(error, LOST))
            return None
        turn.finish = lambda turn, conversation: self._finish(running, turn, conversation)
        if running.stop_reason == "cancel":
            turn.response["status"] = "cancelled"
            await self._finish(running, turn, None)
            return None
        if running.stop_reason is not None:
            await self._fail(running, SHUTDOWN)
            return None
        return turn

    async def _events(self, running: _Running, turn: Turn) -> None:
        async for event in self.service.events(turn):
            if event["type"] == "response.created":
                continue
            number = event["sequence_number"] + _SUBMITTED_EVENTS
            if number <= running.logged_through:
                continue  # written with the turn's end
            event["sequence_number"] = number
            running.last_number = number
            self.log.add(running.response_id, event)

    async def _finish(self, running: _Running, turn: Turn, conversation_id: str | None) -> None:
        """The turn's end, stored with its job's removal (``Turn.finish``)."""
        response = turn.response
        ending = [_renumbered(event) for event in turn.ending]
        if running.stop_reason in ("shutdown", "lost") and response["status"] == "cancelled":
            response["status"] = "failed"
            response["error"] = SHUTDOWN if running.stop_reason == "shutdown" else LOST
            ending = [
                {
                    "type": "response.failed",
                    "sequence_number": running.last_number + 1,
                    "response": {**response, "output": list(response["output"])},
                }
            ]
        try:
            async with self._writing:
                rows = self.log.take(running.response_id) + _rows(running.response_id, ending)
                await self.jobs.finish(
                    self.worker_id,
                    dict(response),
                    turn.input_items,
                    turn.owner,
                    conversation_id,
                    rows,
                )
            running.stored = True
            if ending:
                running.logged_through = ending[-1]["sequence_number"]
        finally:
            running.saved.set()
            self.log.written([running.response_id])

    async def _fail(self, running: _Running, error: dict[str, str]) -> None:
        async with self._writing:
            rows = self.log.take(running.response_id)
            await self.jobs.flush(self.worker_id, _now_ms(), self._lease_ms, rows, [])
            await self.jobs.end_failed(running.response_id, error, self.worker_id)
        self.log.written([running.response_id])

    async def _flush_loop(self) -> None:
        while True:
            if not self._running and not self.log.pending:
                self._busy.clear()  # an idle replica does not tick
                await self._busy.wait()
            await asyncio.sleep(self.config.flush_interval)
            try:
                await self._flush()
            except Exception:
                log.exception("background events could not be written")

    async def _flush(self) -> None:
        async with self._writing:
            rows = self.log.take()
            renew_due = time.monotonic() - self._last_renew > self.config.lease_seconds / 4
            renew = [key for key, job in self._running.items() if not job.stored]
            if not rows and not (renew and renew_due):
                return
            if renew_due:
                self._last_renew = time.monotonic()
            flushed = await self.jobs.flush(self.worker_id, _now_ms(), self._lease_ms, rows, renew)
        self.log.written({row[0] for row in rows})
        for response_id in flushed.cancel_requested:
            self._stop(response_id, "cancel")
        for response_id in flushed.lost:
            self._stop(response_id, "lost")

    def _stop(self, response_id: str, reason: str) -> None:
        running = self._running.get(response_id)
        if running is not None and not running.stored:
            running.stop(reason)

    async def stop(self, grace: float) -> None:
        """Shut down: take no more jobs, let running ones finish within ``grace``
        seconds, end the rest ``failed``, and write the last events."""
        self._stopping = True
        self._wake.set()
        log.info("background: stopping with %d running, %.1f s of grace", len(self._running), grace)
        claim_loop, flush_loop = self._loops or (None, None)
        if claim_loop is not None:
            claim_loop.cancel()
            await asyncio.gather(claim_loop, return_exceptions=True)
        if self._supervisors:
            await asyncio.wait(set(self._supervisors), timeout=grace)
        for running in list(self._running.values()):
            running.stop("shutdown")
        if self._supervisors:
            await asyncio.wait(set(self._supervisors), timeout=_SAVE_WAIT)
        if flush_loop is not None:
            flush_loop.cancel()
            await asyncio.gather(flush_loop, return_exceptions=True)
        await self._flush()
        await self.jobs.close()
        log.info("background: stopped")


def _cancelled_already(response: dict[str, Any]) -> dict[str, Any]:
    """No job left: a cancelled response again (idempotent), else OpenAI's errors."""
    if response["status"] == "cancelled":
        return response
    if not response.get("background"):
        raise InvalidRequest("Cannot cancel a synchronous response.", param="response_id")
    raise InvalidRequest(
        f"Cannot cancel a response that is already {response['status']}.", param="response_id"
    )


def _error_of(error: ApiError | None, fallback: dict[str, str]) -> dict[str, str]:
    if error is None:
        return fallback
    return {"code": error.code or "server_error", "message": error.message}


def _renumbered(event: Event) -> dict[str, Any]:
    return {**event, "sequence_number": event["sequence_number"] + _SUBMITTED_EVENTS}


def _rows(response_id: str, events: list[dict[str, Any]]) -> list[EventRow]:
    return [(response_id, event["sequence_number"], dumps_str(event)) for event in events]


def _now_ms() -> int:
    return int(time.time() * 1000)
