"""Reusable prompts on SQL, as functions of a SQLAlchemy ``Connection`` (see runners.py).

A version's number is one more than the prompt's highest, taken inside the writing
transaction; two replicas adding a version at once collide on the unique index and
the loser is retried by ``SqlStore``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, select

from relaystack.store.base import Order, Page
from relaystack.store.schema import prompt_versions
from relaystack.wire.json import dumps_str, loads


def add_version(
    connection: Connection, prompt: dict[str, Any], owner: str, new: bool
) -> dict[str, Any] | None:
    """Store ``prompt`` as the prompt's next version (its first when ``new``); None when
    an existing prompt is not this owner's."""
    of_prompt = prompt_versions.c.prompt_id == prompt["id"]
    latest = connection.execute(
        select(func.max(prompt_versions.c.version), func.min(prompt_versions.c.owner)).where(
            of_prompt
        )
    ).one()
    if not new and (latest[0] is None or latest[1] != owner):
        return None
    version = (latest[0] or 0) + 1
    stored = {**prompt, "version": str(version)}
    connection.execute(
        prompt_versions.insert().values(
            prompt_id=prompt["id"],
            owner=owner,
            version=version,
            created_at=prompt["created_at"],
            body=dumps_str(stored),
        )
    )
    return stored


def get_version(
    connection: Connection, prompt_id: str, owner: str, version: int | None
) -> dict[str, Any] | None:
    query = select(prompt_versions.c.body).where(
        prompt_versions.c.prompt_id == prompt_id, prompt_versions.c.owner == owner
    )
    if version is None:
        query = query.order_by(prompt_versions.c.version.desc()).limit(1)
    else:
        query = query.where(prompt_versions.c.version == version)
    body = connection.scalar(query)
    return None if body is None else loads(body)


def list_prompts(
    connection: Connection, owner: str, after: str | None, limit: int, order: Order
) -> Page:
    """Each prompt's latest version, by when the prompt was created."""
    first = (
        select(
            prompt_versions.c.prompt_id,
            func.min(prompt_versions.c.pk).label("first_pk"),
            func.max(prompt_versions.c.version).label("latest"),
        )
        .where(prompt_versions.c.owner == owner)
        .group_by(prompt_versions.c.prompt_id)
        .subquery()
    )
    query = select(prompt_versions.c.body, first.c.first_pk).join(
        first,
        (prompt_versions.c.prompt_id == first.c.prompt_id)
        & (prompt_versions.c.version == first.c.latest),
    )
    if after is not None:
        cursor = (
            select(func.min(prompt_versions.c.pk))
            .where(prompt_versions.c.prompt_id == after, prompt_versions.c.owner == owner)
            .scalar_subquery()
        )
        query = query.where(
            first.c.first_pk > cursor if order == "asc" else first.c.first_pk < cursor
        )
    query = query.order_by(first.c.first_pk.asc() if order == "asc" else first.c.first_pk.desc())
    rows = connection.execute(query.limit(limit + 1)).all()
    return Page(data=[loads(row[0]) for row in rows[:limit]], has_more=len(rows) > limit)


def delete_prompt(connection: Connection, prompt_id: str, owner: str) -> bool:
    deleted = connection.execute(
        delete(prompt_versions).where(
            prompt_versions.c.prompt_id == prompt_id, prompt_versions.c.owner == owner
        )
    )
    return bool(deleted.rowcount)
