"""Streaming text with stop sequences: emit as early as possible, never a stop's start.

A stop sequence can span tokens, so text that could be the beginning of one is held
back until the next token shows whether it is. The same scan finds the tool-call
marker in free text.
"""

from __future__ import annotations


class StopScanner:
    def __init__(self, stops: list[str]) -> None:
        self._stops = [stop for stop in stops if stop]
        self._held = ""

    def feed(self, text: str) -> tuple[str, str | None]:
        """Add text; returns (text safe to emit, the stop sequence found or None).

        After a stop is found, the text after it is dropped and the scanner is done.
        """
        buffer = self._held + text
        found: tuple[int, str] | None = None
        for stop in self._stops:
            at = buffer.find(stop)
            if at >= 0 and (found is None or at < found[0]):
                found = (at, stop)
        if found is not None:
            self._held = ""
            return buffer[: found[0]], found[1]
        keep = self._partial_suffix(buffer)
        self._held = buffer[len(buffer) - keep :] if keep else ""
        return buffer[: len(buffer) - keep], None

    def flush(self) -> str:
        """The held-back text, once generation ended without completing a stop."""
        held, self._held = self._held, ""
        return held

    def _partial_suffix(self, buffer: str) -> int:
        """Length of the longest end of ``buffer`` that begins some stop sequence."""
        longest = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(buffer)), longest, -1):
                if buffer.endswith(stop[:size]):
                    longest = size
                    break
        return longest
