"""Responses and their items, as functions of a SQLAlchemy ``Connection``.

Run through a ``Runner`` (see runners.py); every function that writes is given a
connection inside one transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, text

from relaystack.store.base import Chain, Item, Order, Page
from relaystack.store.conversations_sql import append_items
from relaystack.store.schema import (
    INPUT_ITEM,
    OUTPUT_ITEM,
    background_jobs,
    conversation_items,
    response_events,
    response_items,
    responses,
)
from relaystack.wire.json import dumps_str, loads

# Walks previous_response_id links from one response back to the first of its chain
# (one indexed lookup per turn). A deleted response ends the walk: it and everything
# older drop out of the context, as with OpenAI.
_CHAIN = """
    WITH RECURSIVE chain(id, previous_response_id, depth) AS (
        SELECT id, previous_response_id, 0 FROM responses WHERE id = :id AND owner = :owner
        UNION ALL
        SELECT r.id, r.previous_response_id, chain.depth + 1
        FROM responses r JOIN chain ON r.id = chain.previous_response_id
        WHERE r.owner = :owner
    )
"""
# Built once, given their values when run: built per call (``insert().values(...)``),
# coercing the values and keying SQLAlchemy's statement cache cost more than SQLite
# spent storing the rows: a stored turn's save took 0.70 ms of the writer thread's
# time that way, 0.39 ms this way (SQLite file, WAL).
_INSERT_RESPONSE = responses.insert()
_INSERT_ITEMS = response_items.insert()
_CHAIN_IDS = text(_CHAIN + "SELECT id FROM chain ORDER BY depth DESC")
_CHAIN_ITEMS = text(
    _CHAIN + "SELECT i.body FROM chain JOIN response_items i ON i.response_id = chain.id "
    "ORDER BY chain.depth DESC, i.kind, i.position"
)


def save_response(
    connection: Connection,
    response: dict[str, Any],
    input_items: list[Item],
    owner: str,
    conversation_id: str | None,
) -> None:
    if conversation_id is not None:
        # First, so a vanished conversation fails before anything is written, and so
        # the conversation's row lock is taken at one predictable point.
        append_items(connection, conversation_id, owner, [*input_items, *response["output"]])
    body = {key: value for key, value in response.items() if key != "output"}
    connection.execute(
        _INSERT_RESPONSE,
        {
            "id": response["id"],
            "owner": owner,
            "created_at": response["created_at"],
            "model": response["model"],
            "status": response["status"],
            "previous_response_id": response.get("previous_response_id"),
            "body": dumps_str(body),
        },
    )
    rows = [
        _item_row(response["id"], INPUT_ITEM, position, item, owner)
        for position, item in enumerate(input_items)
    ]
    rows += [
        _item_row(response["id"], OUTPUT_ITEM, position, item, owner)
        for position, item in enumerate(response["output"])
    ]
    if rows:
        connection.execute(_INSERT_ITEMS, rows)


def get_response(connection: Connection, response_id: str, owner: str) -> dict[str, Any] | None:
    body = connection.scalar(select(responses.c.body).where(*_owned(response_id, owner)))
    if body is None:
        return None
    output = connection.scalars(
        select(response_items.c.body)
        .where(response_items.c.response_id == response_id, response_items.c.kind == OUTPUT_ITEM)
        .order_by(response_items.c.position)
    )
    return _with_output(body, list(output))


def response_exists(connection: Connection, response_id: str, owner: str) -> bool:
    return connection.scalar(select(responses.c.pk).where(*_owned(response_id, owner))) is not None


def delete_response(connection: Connection, response_id: str, owner: str) -> bool:
    deleted = connection.execute(responses.delete().where(*_owned(response_id, owner)))
    if deleted.rowcount == 0:
        return False
    connection.execute(response_items.delete().where(response_items.c.response_id == response_id))
    # A background response's job (a deleted queued one never runs) and event log.
    connection.execute(background_jobs.delete().where(background_jobs.c.response_id == response_id))
    connection.execute(response_events.delete().where(response_events.c.response_id == response_id))
    return True


def list_responses(
    connection: Connection,
    owner: str,
    after: str | None,
    limit: int,
    order: Order,
    model: str | None,
) -> Page:
    query = select(responses.c.id, responses.c.body).where(responses.c.owner == owner)
    if model is not None:
        query = query.where(responses.c.model == model)
    if after is not None:
        cursor = select(responses.c.pk).where(*_owned(after, owner)).scalar_subquery()
        query = query.where(responses.c.pk > cursor if order == "asc" else responses.c.pk < cursor)
    query = query.order_by(responses.c.pk.asc() if order == "asc" else responses.c.pk.desc())
    rows = connection.execute(query.limit(limit + 1)).all()
    page = rows[:limit]
    outputs = _outputs(connection, [row.id for row in page])
    data = [_with_output(row.body, outputs.get(row.id, [])) for row in page]
    return Page(data=data, has_more=len(rows) > limit)


def list_input_items(
    connection: Connection,
    response_id: str,
    owner: str,
    after: str | None,
    before: str | None,
    limit: int,
    order: Order,
) -> Page | None:
    if not response_exists(connection, response_id, owner):
        return None
    of_response = (
        response_items.c.response_id == response_id,
        response_items.c.kind == INPUT_ITEM,
    )
    query = select(response_items.c.body).where(*of_response)
    position = response_items.c.position
    for cursor_id, later in ((after, True), (before, False)):
        if cursor_id is None:
            continue
        cursor = (
            select(position)
            .where(*of_response, response_items.c.item_id == cursor_id)
            .scalar_subquery()
        )
        # "after" follows the listing order; in descending order that is backwards.
        forward = later == (order == "asc")
        query = query.where(position > cursor if forward else position < cursor)
    query = query.order_by(position.asc() if order == "asc" else position.desc())
    rows = connection.scalars(query.limit(limit + 1)).all()
    data = [loads(body) for body in rows[:limit]]
    return Page(data=data, has_more=len(rows) > limit)


def chain(connection: Connection, response_id: str, owner: str) -> Chain | None:
    response_ids = chain_ids(connection, response_id, owner)
    if not response_ids:
        return None
    parameters = {"id": response_id, "owner": owner}
    items = [loads(body) for body in connection.scalars(_CHAIN_ITEMS, parameters)]
    return Chain(response_ids=response_ids, items=items)


def chain_ids(connection: Connection, response_id: str, owner: str) -> list[str]:
    return list(connection.scalars(_CHAIN_IDS, {"id": response_id, "owner": owner}))


def find_items(connection: Connection, item_ids: list[str], owner: str) -> dict[str, Item]:
    """Items by id, from any response or conversation of this owner."""
    found: dict[str, Item] = {}
    for table in (response_items, conversation_items):
        missing = [item_id for item_id in item_ids if item_id not in found]
        if not missing:
            break
        rows = connection.execute(
            select(table.c.item_id, table.c.body).where(
                table.c.owner == owner, table.c.item_id.in_(missing)
            )
        )
        for item_id, body in rows:
            found.setdefault(item_id, loads(body))
    return found


def _outputs(connection: Connection, response_ids: list[str]) -> dict[str, list[str]]:
    if not response_ids:
        return {}
    rows = connection.execute(
        select(response_items.c.response_id, response_items.c.body)
        .where(
            response_items.c.response_id.in_(response_ids),
            response_items.c.kind == OUTPUT_ITEM,
        )
        .order_by(response_items.c.response_id, response_items.c.position)
    )
    outputs: dict[str, list[str]] = {}
    for response_id, body in rows:
        outputs.setdefault(response_id, []).append(body)
    return outputs


def _owned(response_id: str, owner: str) -> tuple[Any, ...]:
    return (responses.c.id == response_id, responses.c.owner == owner)


def _item_row(response_id: str, kind: int, position: int, item: Item, owner: str) -> dict[str, Any]:
    return {
        "response_id": response_id,
        "owner": owner,
        "kind": kind,
        "position": position,
        "item_id": item["id"],
        "body": dumps_str(item),
    }


def _with_output(body: str, output: list[str]) -> dict[str, Any]:
    response = loads(body)
    response["output"] = [loads(item) for item in output]
    return response
