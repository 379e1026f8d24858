"""Query parameters for list endpoints, checked with OpenAI's error messages, and the
list object those endpoints answer with."""

from __future__ import annotations

from typing import TypedDict

from starlette.requests import Request
from starlette.responses import Response

from relaystack.api.json import json_response
from relaystack.errors import InvalidRequest
from relaystack.store.base import Order, Page


class PageQuery(TypedDict):
    """The paging keywords every service's list call takes: ``**page_query(request)``."""

    after: str | None
    limit: int
    order: Order


def page_query(request: Request, default_limit: int = 20, max_limit: int = 100) -> PageQuery:
    """``after``, ``limit`` and ``order``, checked in that order.

    Read by hand, not declared as FastAPI query parameters, so the OpenAPI document
    and the error messages stay as they were."""
    return PageQuery(
        after=request.query_params.get("after"),
        limit=limit_param(request, default=default_limit, maximum=max_limit),
        order=order_param(request),
    )


def page_response(page: Page) -> Response:
    """A service's page as OpenAI's list object."""
    return json_response(list_page(page.data, page.has_more))


def limit_param(request: Request, default: int = 20, maximum: int = 100) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(
            f"Invalid 'limit': expected an integer, but got '{raw}' instead.",
            param="limit",
            code="invalid_type",
        ) from None
    if not 1 <= value <= maximum:
        raise InvalidRequest(
            f"Invalid 'limit': expected a value between 1 and {maximum}, but got {value}.",
            param="limit",
            code="invalid_value",
        )
    return value


def order_param(request: Request, default: Order = "desc") -> Order:
    raw = request.query_params.get("order")
    if raw is None:
        return default
    if raw not in ("asc", "desc"):
        raise InvalidRequest(
            f"Invalid value for 'order': '{raw}'. Supported values are: 'asc' and 'desc'.",
            param="order",
            code="invalid_value",
        )
    return raw  # type: ignore[return-value]


def list_page(data: list[dict], has_more: bool) -> dict:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }
