"""Request ids: the client's ``x-request-id`` when it is well-formed, else a new one."""

from __future__ import annotations

import itertools
import os
import re

HEADER = b"x-request-id"
# Long enough for a UUID or a trace id with a prefix; nothing a log line could choke on.
_WELL_FORMED = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:=+/-]{0,127}")


# Unique, not secret: a random prefix per process and a counter, rather than a
# getrandom system call for every request.
_PROCESS = os.urandom(8).hex()
_SEQUENCE = itertools.count()


def new_request_id() -> str:
    return f"req_{_PROCESS}{next(_SEQUENCE):016x}"


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The id the client sent, when it has a sane shape; otherwise a new one."""
    for name, value in headers:
        if name == HEADER:
            if _WELL_FORMED.fullmatch(value):
                return value.decode("ascii")
            break
    return new_request_id()
