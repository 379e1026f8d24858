"""Chunks read back for search: a store's vectors, keyword hits, and the chunks found.

Keywords use the database's own full-text index (FTS5's bm25 on SQLite, ``ts_rank``
over the ``words`` tsvector on PostgreSQL). A query's words are OR-ed: a chunk that has
some of them still ranks, as BM25 would rank it, rather than only chunks with all.

On SQLite a query keeps its rarest words up to ``POSTINGS_BUDGET`` matching chunks:
FTS5 scores every chunk that matches any word (about 3 us each on our loaded 2-core
machine: 14k matches took 35-50 ms), so one "the" would have a search of 100k chunks
score nearly all of them, while BM25 gives such a word almost no weight anyway.

Speed on SQLite (100k chunks, 6-word queries, CPU time of the reading thread, medians
over 100 distinct queries, ``bench.retrieval``'s store):

- Word counts are counted by FTS5 itself only up to the budget (``LIMIT``): a word
  over it is never kept unless every word is, so its exact count is read (from the
  ``fts5vocab`` table, which walks the word's whole posting list: "the" in 98k chunks
  costs 4 ms) only then. 4.3 ms -> 1.0 ms.
- The ranking orders by FTS5's ``rank`` column (bm25 with default weights), not by a
  ``bm25()`` call: with the join to ``file_chunks`` (which scopes it to the stores),
  the call ran twice per match. 8.2 ms -> 4.0 ms, same chunks in the same order.
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
SELECT c.pk AS pk, file_chunks_fts.rank AS score
FROM file_chunks_fts JOIN file_chunks AS c ON c.pk = file_chunks_fts.rowid
WHERE file_chunks_fts MATCH :match AND c.vector_store_id IN :stores {files}
ORDER BY score LIMIT :limit
"""

_POSTGRES_KEYWORDS = """
SELECT c.pk AS pk, ts_rank(c.words, q) AS rank
FROM file_chunks AS c, to_tsquery('simple', :match) AS q
WHERE c.words @@ q AND c.vector_store_id IN :stores {files}
ORDER BY rank DESC LIMIT :limit
"""


POSTINGS_BUDGET = 5_000


def _rarest(connection: Connection, words: list[str]) -> list[str]:
    """The words to match, in the query's order: the rarest, up to the budget."""
    chunks = connection.exec_driver_sql("SELECT max(pk) FROM file_chunks").scalar() or 0
    if chunks * len(words) <= POSTINGS_BUDGET:
        return words  # no word can be in more chunks than there are: all fit
    counts = _capped_counts(connection, words)
    if all(count > POSTINGS_BUDGET for count in counts.values()):
        counts = _exact_counts(connection, words)  # which of them is rarest
    # Counted as FTS5 matches them: a word it splits or folds ("from_" is the phrase
    # "from") counts its matches (the vocabulary, which has no such term, said 0, so
    # "from_" was kept and scored 28k chunks at 100k); an unknown word counts 0 and
    # costs nothing to keep.
    kept, postings = set(), 0
    for word in sorted(words, key=lambda w: counts.get(w, 0)):
        postings += counts.get(word, 0)
        if kept and postings > POSTINGS_BUDGET:
            break
        kept.add(word)
    return [word for word in words if word in kept]


_CAPPED_COUNT = (
    "(SELECT count(*) FROM (SELECT 1 FROM file_chunks_fts WHERE file_chunks_fts MATCH ? LIMIT ?))"
)


def _capped_counts(connection: Connection, words: list[str]) -> dict[str, int]:
    """Chunks with each word, counted up to ``POSTINGS_BUDGET + 1``, in one statement.

    On the driver directly: through SQLAlchemy's ``text()`` this cost 0.5 ms more."""
    sql = "SELECT " + ", ".join([_CAPPED_COUNT] * len(words))
    params = tuple(value for word in words for value in (f'"{word}"', POSTINGS_BUDGET + 1))
    row = connection.exec_driver_sql(sql, params).one()
    return dict(zip(words, row, strict=True))


def _exact_counts(connection: Connection, words: list[str]) -> dict[str, int]:
    statement = text("SELECT term, doc FROM file_chunks_vocab WHERE term IN :words").bindparams(
        bindparam("words", expanding=True)
    )
    return {row.term: row.doc for row in connection.execute(statement, {"words": words})}


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
    else:
        match = " OR ".join(f'"{word}"' for word in _rarest(connection, words))
    params: dict[str, Any] = {"match": match, "stores": store_ids, "limit": limit}
    if file_ids is not None:
        if not file_ids:
            return []
        params["files"] = file_ids
    statement = _KEYWORD_STATEMENTS[(postgres, file_ids is not None)]
    return [row.pk for row in connection.execute(statement, params)]


# The search statements are built once, with bind parameters: built per call, SQLAlchemy
# spends more instructions constructing one and keying its statement cache than the
# database spends answering it (see responses_sql.py for what that cost a stored turn).
_KEYWORD_STATEMENTS = {
    (postgres, by_file): text(
        (_POSTGRES_KEYWORDS if postgres else _SQLITE_KEYWORDS).format(
            files="AND c.file_id IN :files" if by_file else ""
        )
    ).bindparams(
        bindparam("stores", expanding=True),
        *([bindparam("files", expanding=True)] if by_file else []),
    )
    for postgres in (False, True)
    for by_file in (False, True)
}
_CHUNKS_FOUND = (
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
    .where(file_chunks.c.pk.in_(bindparam("pks", expanding=True)))
)
_LIVE_CHUNKS_FOUND = _CHUNKS_FOUND.where(
    or_(files.c.expires_at.is_(None), files.c.expires_at > bindparam("now"))
)


def chunks_found(connection: Connection, pks: list[int], now: int | None = None) -> dict[int, Any]:
    """The chunks with these pks: text, file id, file name and the file's attributes.

    With ``now``, chunks of a file expired by then are left out: the sweep that deletes
    them may not have run yet (see ``retrieval/expiry.py``)."""
    if not pks:
        return {}
    if now is None:
        rows = connection.execute(_CHUNKS_FOUND, {"pks": pks})
    else:
        rows = connection.execute(_LIVE_CHUNKS_FOUND, {"pks": pks, "now": now})
    return {row.pk: row for row in rows}


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
