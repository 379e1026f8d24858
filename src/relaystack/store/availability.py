"""A database that cannot be reached right now (restarting, failing over, the network
down) is the client's 503 ``store_unavailable``, not a 500: the request may well succeed
in a moment, and nothing of it was stored. The runner asks ``unreachable`` about every
failure of a query; the pool then reconnects on its own (``pool_pre_ping``)."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

from relaystack.errors import ApiError

log = logging.getLogger(__name__)

# PostgreSQL's SQLSTATEs for a lost or refused connection: class 08 (connection
# exception), and 57P01-57P03 (shut down by an administrator or a crash, or not
# accepting connections yet: starting up or shutting down).
_SHUTDOWN_STATES = frozenset({"57P01", "57P02", "57P03"})


class StoreUnavailable(ApiError):
    def __init__(self) -> None:
        super().__init__(
            "The database cannot be reached right now; nothing was stored. Try again shortly.",
            code="store_unavailable",
            status_code=503,
            error_type="server_error",
        )


def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached (not that a query failed)."""
    if isinstance(exc, OSError):  # refused, reset, no route: asyncpg raises these raw
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig or exc
    # Refusals while connecting come as asyncpg's own errors, unwrapped.
    state = getattr(exc, "sqlstate", None)
    return isinstance(state, str) and (state.startswith("08") or state in _SHUTDOWN_STATES)


def unavailable_error(exc: BaseException) -> StoreUnavailable:
    log.warning("the database cannot be reached: %s", type(exc).__name__)
    return StoreUnavailable()
