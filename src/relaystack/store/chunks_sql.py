"""Chunks read back for search: a store's vectors, keyword hits, and the chunks found.

Keywords use the database's own full-text index (FTS5's bm25 on SQLite, ``ts_rank``
over the ``words`` tsvector on PostgreSQL). A query's words are OR-ed: a chunk that has
some of them still ranks, as BM25 would rank it, rather than only chunks with all.

On SQLite a query keeps its rarest words up to ``POSTINGS_BUDGET`` matching chunks
(word counts from the ``fts5vocab`` table): FTS5 scores every chunk that matches any
word (about 3 us each on our loaded 2-core machine: 14k matches took 35-50 ms), so
one "the" would have a search of 100k chunks score nearly all of them, while BM25
gives such a word almost no weight anyway.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, or_, select, text

from relaystack.store.files_schema import file_chunks, files, vector_store_files


def store_vectors(connection: Connection, store_id: str) -> list[Any]:
    """Every chunk of a store: ``pk``, ``file_id`` and ``embedding`` bytes, in pk order."""
    return list(
        connection.execute(
            select(file_chunks.c.pk, file_chunks.c.file_id, file_chunks.c.embedding)
            .where(file_chunks.c.vector_store_id == store_id)
            .order_by(file_chunks.c.pk)
        )
    )


_SQLITE_KEYWORDS = """
SELECT c.pk AS pk, bm25(file_chunks_fts) AS rank
FROM file_chunks_fts JOIN file_chunks AS c ON c.pk = file_chunks_fts.rowid
WHERE file_chunks_fts MATCH :match AND c.vector_store_id IN :stores {files}
ORDER BY rank LIMIT :limit
"""

_POSTGRES_KEYWORDS = """
SELECT c.pk AS pk, ts_rank(c.words, q) AS rank
FROM file_chunks AS c, to_tsquery('simple', :match) AS q
WHERE c.words @@ q AND c.vector_store_id IN :stores {files}
ORDER BY rank DESC LIMIT :limit
"""


POSTINGS_BUDGET = 5_000


def _rarest(connection: Connection, words: list[str]) -> list[str]:
    statement = text("SELECT term, doc FROM file_chunks_vocab WHERE term IN :words").bindparams(
        bindparam("words", expanding=True)
    )
    counts = {row.term: row.doc for row in connection.execute(statement, {"words": words})}
    # A word the index does not know matches nothing (or is spelt differently there):
    # it costs nothing to keep.
    kept, postings = [], 0
    for word in sorted(words, key=lambda w: counts.get(w, 0)):
        postings += counts.get(word, 0)
        if kept and postings > POSTINGS_BUDGET:
            break
        kept.append(word)
    return kept


def keyword_hits(
    connection: Connection,
    store_ids: list[str],
    words: list[str],
    file_ids: list[str] | None,
    limit: int,
) -> list[int]:
    """Chunk pks that have the words, best first, within the stores (and files)."""
    if not words:
        return []
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        match = " | ".join(words)
        sql = _POSTGRES_KEYWORDS
    else:
        match = " OR ".join(f'"{word}"' for word in _rarest(connection, words))
        sql = _SQLITE_KEYWORDS
    statement = text(sql.format(files="AND c.file_id IN :files" if file_ids is not None else ""))
    params: dict[str, Any] = {"match": match, "stores": store_ids, "limit": limit}
    statement = statement.bindparams(bindparam("stores", expanding=True))
    if file_ids is not None:
        if not file_ids:
            return []
        statement = statement.bindparams(bindparam("files", expanding=True))
        params["files"] = file_ids
    return [row.pk for row in connection.execute(statement, params)]


def chunks_found(connection: Connection, pks: list[int], now: int | None = None) -> dict[int, Any]:
    """The chunks with these pks: text, file id, file name and the file's attributes.

    With ``now``, chunks of a file expired by then are left out: the sweep that deletes
    them may not have run yet (see ``retrieval/expiry.py``)."""
    if not pks:
        return {}
    query = (
        select(
            file_chunks.c.pk,
            file_chunks.c.file_id,
            file_chunks.c.text,
            files.c.filename,
            vector_store_files.c.attributes,
        )
        .join(files, files.c.id == file_chunks.c.file_id)
        .join(
            vector_store_files,
            (vector_store_files.c.file_id == file_chunks.c.file_id)
            & (vector_store_files.c.vector_store_id == file_chunks.c.vector_store_id),
        )
        .where(file_chunks.c.pk.in_(pks))
    )
    if now is not None:
        query = query.where(or_(files.c.expires_at.is_(None), files.c.expires_at > now))
    return {row.pk: row for row in connection.execute(query)}


def searchable_files(connection: Connection, store_ids: list[str]) -> list[Any]:
    """The completed files of the stores with their attributes (what filters read)."""
    return list(
        connection.execute(
            select(vector_store_files.c.file_id, vector_store_files.c.attributes).where(
                vector_store_files.c.vector_store_id.in_(store_ids),
                vector_store_files.c.status == "completed",
            )
        )
    )
