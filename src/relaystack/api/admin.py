"""Operator-only routes: who may read metrics and everyone's usage."""

from __future__ import annotations

from starlette.requests import Request

from relaystack.api.context import owner_of
from relaystack.errors import ApiError
from relaystack.operations_config import OperationsConfig


class Forbidden(ApiError):
    status_code = 403

    def __init__(self, message: str) -> None:
        super().__init__(message, code="insufficient_permissions")


def require_admin(request: Request) -> None:
    """With auth on, only the keys of ``operations.admins`` owners pass (a request
    without a valid key never gets here: ``Authentication`` answered it 401; another
    owner's is a 403). With auth off there is nobody to refuse."""
    if not request.app.state.api_keys:
        return
    owner = owner_of(request)
    operations: OperationsConfig = request.app.state.operations
    if owner not in operations.admins:
        raise Forbidden(
            f"Owner '{owner}' may not read this: it is for the owners listed in operations.admins."
        )
