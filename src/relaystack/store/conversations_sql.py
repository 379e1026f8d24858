"""Conversations on SQL, as functions of a SQLAlchemy ``Connection`` (see runners.py).

Order comes from a per-conversation counter (``conversations.next_position``).
An append bumps it with ``UPDATE ... RETURNING`` inside the writing transaction: on
PostgreSQL that row lock makes every other appender (on any replica) wait until
this one commits, so positions are unique, dense per batch and in commit order; on
SQLite the runner's single writer thread already serialises writers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select

from relaystack.store.base import ConversationNotFound, DuplicateItem, Item, Order, Page
from relaystack.store.schema import conversation_items, conversations
from relaystack.wire.json import dumps_str, loads

# Built once (with bind parameters): a statement built per call spent more instructions
# coercing its values and keying SQLAlchemy's statement cache than the database spent
# running it (see responses_sql.py).
_BUMP = (
    conversations.update()
    .where(
        conversations.c.id == bindparam("conversation"),
        conversations.c.owner == bindparam("owner_id"),
    )
    .values(next_position=conversations.c.next_position + bindparam("count"))
    .returning(conversations.c.next_position)
)
_CLASH = (
    select(conversation_items.c.item_id)
    .where(
        conversation_items.c.conversation_id == bindparam("conversation"),
        conversation_items.c.item_id.in_(bindparam("ids", expanding=True)),
    )
    .limit(1)
)
_INSERT_ITEMS = conversation_items.insert()


def append_items(
    connection: Connection, conversation_id: str, owner: str, items: list[Item]
) -> None:
    """Append inside the caller's transaction (so a response and its conversation
    turn commit together)."""
    end = connection.scalar(
        _BUMP, {"conversation": conversation_id, "owner_id": owner, "count": len(items)}
    )
    if end is None:
        raise ConversationNotFound(conversation_id)
    if not items:
        return
    # Checked under the row lock, so two appenders cannot both slip the same id in.
    ids = [item["id"] for item in items]
    clash = connection.scalar(_CLASH, {"conversation": conversation_id, "ids": ids})
    if clash is not None:
        raise DuplicateItem(clash)
    start = end - len(items)
    connection.execute(
        _INSERT_ITEMS,
        [
            {
                "conversation_id": conversation_id,
                "owner": owner,
                "position": start + offset,
                "item_id": item["id"],
                "body": dumps_str(item),
            }
            for offset, item in enumerate(items)
        ],
    )


def _conversation(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "object": "conversation",
        "created_at": row.created_at,
        "metadata": loads(row.metadata),
    }


_COLUMNS = (
    conversations.c.id,
    conversations.c.created_at,
    conversations.c.metadata,
)


def _owned(conversation_id: str, owner: str) -> tuple[Any, ...]:
    return (conversations.c.id == conversation_id, conversations.c.owner == owner)


def create_conversation(
    connection: Connection, conversation: dict[str, Any], items: list[Item], owner: str
) -> None:
    connection.execute(
        conversations.insert().values(
            id=conversation["id"],
            owner=owner,
            created_at=conversation["created_at"],
            metadata=dumps_str(conversation["metadata"]),
            next_position=0,
        )
    )
    append_items(connection, conversation["id"], owner, items)


def get_conversation(
    connection: Connection, conversation_id: str, owner: str
) -> dict[str, Any] | None:
    row = connection.execute(select(*_COLUMNS).where(*_owned(conversation_id, owner))).first()
    return None if row is None else _conversation(row)


def update_conversation(
    connection: Connection, conversation_id: str, owner: str, metadata: dict[str, str]
) -> dict[str, Any] | None:
    row = connection.execute(
        conversations.update()
        .where(*_owned(conversation_id, owner))
        .values(metadata=dumps_str(metadata))
        .returning(*_COLUMNS)
    ).first()
    return None if row is None else _conversation(row)


def delete_conversation(connection: Connection, conversation_id: str, owner: str) -> bool:
    # The row goes first: it waits for appenders holding its lock, and the item
    # delete that follows then sees everything they committed.
    deleted = connection.execute(conversations.delete().where(*_owned(conversation_id, owner)))
    if deleted.rowcount == 0:
        return False
    connection.execute(
        conversation_items.delete().where(conversation_items.c.conversation_id == conversation_id)
    )
    return True


def conversation_items_of(
    connection: Connection, conversation_id: str, owner: str
) -> list[Item] | None:
    if not _exists(connection, conversation_id, owner):
        return None
    rows = connection.scalars(
        select(conversation_items.c.body)
        .where(
            conversation_items.c.conversation_id == conversation_id,
            conversation_items.c.owner == owner,
        )
        .order_by(conversation_items.c.position)
    )
    return [loads(body) for body in rows]


def list_conversation_items(
    connection: Connection,
    conversation_id: str,
    owner: str,
    after: str | None,
    limit: int,
    order: Order,
) -> Page | None:
    if not _exists(connection, conversation_id, owner):
        return None
    of_conversation = (
        conversation_items.c.conversation_id == conversation_id,
        conversation_items.c.owner == owner,
    )
    position = conversation_items.c.position
    query = select(conversation_items.c.body).where(*of_conversation)
    if after is not None:
        cursor = (
            select(position)
            .where(*of_conversation, conversation_items.c.item_id == after)
            .scalar_subquery()
        )
        # "after" follows the listing order; in descending order that is backwards.
        query = query.where(position > cursor if order == "asc" else position < cursor)
    query = query.order_by(position.asc() if order == "asc" else position.desc())
    rows = connection.scalars(query.limit(limit + 1)).all()
    data = [loads(body) for body in rows[:limit]]
    return Page(data=data, has_more=len(rows) > limit)


def get_conversation_item(
    connection: Connection, conversation_id: str, item_id: str, owner: str
) -> Item | None:
    body = connection.scalar(
        select(conversation_items.c.body).where(
            conversation_items.c.conversation_id == conversation_id,
            conversation_items.c.item_id == item_id,
            conversation_items.c.owner == owner,
        )
    )
    return None if body is None else loads(body)


def delete_conversation_item(
    connection: Connection, conversation_id: str, item_id: str, owner: str
) -> bool:
    deleted = connection.execute(
        conversation_items.delete().where(
            conversation_items.c.conversation_id == conversation_id,
            conversation_items.c.item_id == item_id,
            conversation_items.c.owner == owner,
        )
    )
    return deleted.rowcount > 0


def _exists(connection: Connection, conversation_id: str, owner: str) -> bool:
    found = connection.scalar(select(conversations.c.pk).where(*_owned(conversation_id, owner)))
    return found is not None
