"""Background jobs and the event log, as functions of a SQLAlchemy ``Connection``.

A job row exists while its response is ``queued`` or ``in_progress``; finishing,
cancelling or failing it deletes the row in the same transaction that writes the
response's end, so a job is never both done and pending. On PostgreSQL replicas take
jobs with ``SELECT ... FOR UPDATE SKIP LOCKED`` (two replicas never take the same one,
and neither waits for the other); SQLite has one writer, which serialises them anyway.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, delete, func, select, text, update

from relaystack.store.base import Item
from relaystack.store.conversations_sql import append_items
from relaystack.store.jobs_base import Claimed, EventRow, Flushed, LeaseLost, QueueFull
from relaystack.store.responses_sql import save_response
from relaystack.store.schema import (
    INPUT_ITEM,
    OUTPUT_ITEM,
    background_jobs,
    response_events,
    response_items,
    responses,
)
from relaystack.wire.json import dumps_str, loads

# Plain SQL both dialects speak: SQLAlchemy's dialect-specific on-conflict insert is
# compiled anew on every call (0.5 ms each, measured), this is compiled once.
_INSERT_EVENTS = text(
    "INSERT INTO response_events (response_id, sequence_number, body) "
    "VALUES (:response_id, :sequence_number, :body) ON CONFLICT DO NOTHING"
)

# PostgreSQL: the channel on which a transaction that logged events names their
# responses (delivered at commit), so streams on every replica wake at once.
EVENTS_CHANNEL = "relaystack_events"
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")
_IDS_PER_NOTIFY = 100  # a payload must stay under 8000 bytes; ids are at most 80

QUEUED = "queued"
RUNNING = "running"


def submit(
    connection: Connection,
    response: dict[str, Any],
    input_items: list[Item],
    owner: str,
    request: dict[str, Any],
    events: list[EventRow],
    max_queued: int,
) -> None:
    queued = connection.scalar(
        select(func.count()).select_from(background_jobs).where(background_jobs.c.state == QUEUED)
    )
    if queued >= max_queued:
        raise QueueFull(max_queued)
    save_response(connection, response, input_items, owner, None)
    connection.execute(
        background_jobs.insert().values(
            response_id=response["id"], owner=owner, request=dumps_str(request), state=QUEUED
        )
    )
    insert_events(connection, events)


def claim(
    connection: Connection, worker: str, now_ms: int, lease_ms: int, limit: int
) -> list[Claimed]:
    """Take up to ``limit`` queued jobs, oldest first, and mark them in progress."""
    query = (
        select(background_jobs.c.response_id, background_jobs.c.owner, background_jobs.c.request)
        .where(background_jobs.c.state == QUEUED)
        .order_by(background_jobs.c.pk)
        .limit(limit)
    )
    rows = connection.execute(_skip_locked(connection, query)).all()
    if not rows:
        return []
    connection.execute(
        update(background_jobs)
        .where(background_jobs.c.response_id.in_([row.response_id for row in rows]))
        .values(state=RUNNING, worker=worker, lease_until=now_ms + lease_ms)
    )
    claimed = []
    for row in rows:
        response = _set_response(connection, row.response_id, status="in_progress")
        inputs = connection.scalars(
            select(response_items.c.body)
            .where(
                response_items.c.response_id == row.response_id,
                response_items.c.kind == INPUT_ITEM,
            )
            .order_by(response_items.c.position)
        )
        claimed.append(
            Claimed(
                row.response_id,
                row.owner,
                loads(row.request),
                response,
                [loads(body) for body in inputs],
            )
        )
    return claimed


def flush(
    connection: Connection,
    worker: str,
    now_ms: int,
    lease_ms: int,
    events: list[EventRow],
    renew: list[str],
) -> Flushed:
    """Append events, renew this worker's leases on ``renew``, and say which of them
    were asked to cancel or are no longer held: one transaction per tick."""
    insert_events(connection, events)
    if not renew:
        return Flushed(set(), set())
    mine = (background_jobs.c.response_id.in_(renew), background_jobs.c.worker == worker)
    connection.execute(update(background_jobs).where(*mine).values(lease_until=now_ms + lease_ms))
    held = dict(
        connection.execute(
            select(background_jobs.c.response_id, background_jobs.c.cancel_requested).where(*mine)
        )
        .tuples()
        .all()
    )
    return Flushed({key for key, cancel in held.items() if cancel}, set(renew) - held.keys())


def finish(
    connection: Connection,
    worker: str,
    response: dict[str, Any],
    input_items: list[Item],
    owner: str,
    conversation_id: str | None,
    events: list[EventRow],
) -> None:
    """Store the response's end (and its last events); the job goes."""
    gone = connection.execute(
        delete(background_jobs).where(
            background_jobs.c.response_id == response["id"], background_jobs.c.worker == worker
        )
    )
    if gone.rowcount == 0:
        raise LeaseLost(response["id"])
    if conversation_id is not None:
        append_items(connection, conversation_id, owner, [*input_items, *response["output"]])
    _store_end(connection, response, owner)
    insert_events(connection, events)
    notify(connection, {response["id"]})  # also an end with no events left to log


def end_failed(
    connection: Connection,
    response_id: str,
    error: dict[str, str],
    worker: str | None,
    expired_before_ms: int | None = None,
) -> bool:
    """End a job ``failed`` with ``error`` and log ``response.failed``: a job of
    ``worker``, or (the reaper) one whose lease expired before ``expired_before_ms``.
    False when no such job is left."""
    query = delete(background_jobs).where(background_jobs.c.response_id == response_id)
    if worker is not None:
        query = query.where(background_jobs.c.worker == worker)
    if expired_before_ms is not None:
        query = query.where(
            background_jobs.c.state == RUNNING, background_jobs.c.lease_until < expired_before_ms
        )
    if connection.execute(query).rowcount == 0:
        return False
    response = _set_response(connection, response_id, status="failed", error=error)
    response["output"] = _output(connection, response_id)
    last = connection.scalar(
        select(func.max(response_events.c.sequence_number)).where(
            response_events.c.response_id == response_id
        )
    )
    number = -1 if last is None else last
    failed = {"type": "response.failed", "sequence_number": number + 1, "response": response}
    insert_events(connection, [(response_id, number + 1, dumps_str(failed))])
    return True


def reap(connection: Connection, now_ms: int, error: dict[str, str], limit: int = 100) -> list[str]:
    """End ``failed`` the running jobs whose worker stopped renewing its lease (a
    replica killed, or cut off from the database): which ones."""
    query = (
        select(background_jobs.c.response_id)
        .where(background_jobs.c.state == RUNNING, background_jobs.c.lease_until < now_ms)
        .limit(limit)
    )
    found = list(connection.scalars(_skip_locked(connection, query)))
    return [
        response_id
        for response_id in found
        if end_failed(connection, response_id, error, None, expired_before_ms=now_ms)
    ]


def request_cancel(connection: Connection, response_id: str, owner: str) -> str | None:
    """``cancelled`` (it was queued: ended now), ``running`` (its worker is asked to
    stop) or None (no job: the response has ended, or is not a background one)."""
    query = select(background_jobs.c.state).where(
        background_jobs.c.response_id == response_id, background_jobs.c.owner == owner
    )
    state = connection.scalar(_skip_locked(connection, query, skip=False))
    if state is None:
        return None
    if state == QUEUED:
        connection.execute(
            delete(background_jobs).where(background_jobs.c.response_id == response_id)
        )
        _set_response(connection, response_id, status="cancelled")
        notify(connection, {response_id})
        return "cancelled"
    connection.execute(
        update(background_jobs)
        .where(background_jobs.c.response_id == response_id)
        .values(cancel_requested=True)
    )
    return RUNNING


def events_after(
    connection: Connection, response_id: str, after: int, limit: int
) -> tuple[list[tuple[int, str]], str | None]:
    """Logged events numbered above ``after``, and the response's stored status.

    The status is read first: a turn's end and its last events commit together, so
    events read after an ended status are all there are (read the other way round,
    an end committed between the two reads would look like an end without events)."""
    status = connection.scalar(select(responses.c.status).where(responses.c.id == response_id))
    rows = connection.execute(
        select(response_events.c.sequence_number, response_events.c.body)
        .where(
            response_events.c.response_id == response_id,
            response_events.c.sequence_number > after,
        )
        .order_by(response_events.c.sequence_number)
        .limit(limit)
    )
    return [(number, body) for number, body in rows], status


def delete_events(connection: Connection, response_id: str) -> None:
    connection.execute(delete(response_events).where(response_events.c.response_id == response_id))


def insert_events(connection: Connection, events: list[EventRow]) -> None:
    """Numbers already logged are skipped: a worker that lost its lease may still write
    after the reaper ended its response, and must not fail the batch it shares."""
    notify(connection, {response_id for response_id, _, _ in events})
    if events:
        connection.execute(
            _INSERT_EVENTS,
            [
                {"response_id": response_id, "sequence_number": number, "body": body}
                for response_id, number, body in events
            ],
        )


def notify(connection: Connection, response_ids: set[str]) -> None:
    """Tell other replicas' streams (PostgreSQL) that these responses changed."""
    if connection.dialect.name != "postgresql" or not response_ids:
        return
    ordered = sorted(response_ids)
    for start in range(0, len(ordered), _IDS_PER_NOTIFY):
        payload = ",".join(ordered[start : start + _IDS_PER_NOTIFY])
        connection.execute(_NOTIFY, {"channel": EVENTS_CHANNEL, "payload": payload})


def _store_end(connection: Connection, response: dict[str, Any], owner: str) -> None:
    body = {key: value for key, value in response.items() if key != "output"}
    connection.execute(
        update(responses)
        .where(responses.c.id == response["id"])
        .values(status=response["status"], body=dumps_str(body))
    )
    rows = [
        {
            "response_id": response["id"],
            "owner": owner,
            "kind": OUTPUT_ITEM,
            "position": position,
            "item_id": item["id"],
            "body": dumps_str(item),
        }
        for position, item in enumerate(response["output"])
    ]
    if rows:
        connection.execute(response_items.insert(), rows)


def _set_response(connection: Connection, response_id: str, **changes: Any) -> dict[str, Any]:
    """Rewrite fields of a stored response's body (its status kept in step)."""
    body = loads(connection.scalar(select(responses.c.body).where(responses.c.id == response_id)))
    body.update(changes)
    connection.execute(
        update(responses)
        .where(responses.c.id == response_id)
        .values(status=body["status"], body=dumps_str(body))
    )
    body["output"] = []
    return body  # type: ignore[no-any-return]


def _output(connection: Connection, response_id: str) -> list[Item]:
    rows = connection.scalars(
        select(response_items.c.body)
        .where(response_items.c.response_id == response_id, response_items.c.kind == OUTPUT_ITEM)
        .order_by(response_items.c.position)
    )
    return [loads(body) for body in rows]


def _skip_locked(connection: Connection, query: Select[Any], *, skip: bool = True) -> Select[Any]:
    """Lock the rows read (PostgreSQL): taken jobs are skipped, a cancel waits its turn."""
    if connection.dialect.name != "postgresql":
        return query
    return query.with_for_update(skip_locked=skip)
