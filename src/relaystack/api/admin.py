"""Operator-only routes: who may read metrics and everyone's usage."""

from __future__ import annotations

from starlette.requests import Request

from relaystack.api.context import request_owner
from relaystack.errors import ApiError
from relaystack.operations_config import OperationsConfig


class Forbidden(ApiError):
    status_code = 403

    def __init__(self, message: str) -> None:
        super().__init__(message, code="insufficient_permissions")


def require_admin(request: Request) -> None:
    """With auth on, only the keys of ``operations.admins`` owners pass (401 without a
    valid key, 403 with another owner's). With auth off there is nobody to refuse."""
    owner = request_owner(request)
    if not request.app.state.api_keys:
        return
    operations: OperationsConfig = request.app.state.operations
    if owner not in operations.admins:
        raise Forbidden(
            f"Owner '{owner}' may not read this: it is for the owners listed in operations.admins."
        )
