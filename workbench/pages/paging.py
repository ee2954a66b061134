"""Pages of the workbench's lists (the registers, the regulator's e-waybills, the inbox, the
bell, the catalogue's imports), paged as the API's lists are (``api.pagination``): by keyset,
in the API list's own order.

A page is the rows strictly after the cursor its "next page" link carries, so paging on while
rows are added repeats and skips none, and a deep page costs what the first does. The links keep
the page's search and filters; a cursor another list gave, or none this one gave, is refused
(422, naming ``cursor``), as the API refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Request
from sqlalchemy import Select
from sqlalchemy.orm import Session

from api.pagination import CURSOR_QUERY, Keyset, page_statement
from contracts.common import Line

Cursor = Annotated[Line | None, CURSOR_QUERY]


@dataclass(frozen=True)
class Shown:
    """A page: its rows, and the addresses of the next page (when there are more) and of the
    first (when this is a later one)."""

    rows: list[Any]
    next_url: str | None
    first_url: str | None


def page_rows(
    request: Request,
    session: Session,
    order: Keyset,
    query: Select[Any],
    cursor: str | None,
    *,
    size: int,
) -> Shown:
    """``size`` rows of ``query`` in ``order`` after ``cursor`` (none: the first page)."""
    start = order.decode(cursor) if cursor is not None else None
    rows = list(session.execute(page_statement(order, query, start, size)).all())
    next_url = None
    if len(rows) > size:
        rows = rows[:size]
        next_url = _address(request, cursor=order.encode(rows[-1]))
    return Shown(rows, next_url, _address(request) if cursor is not None else None)


def _address(request: Request, **params: str) -> str:
    """This page's address, its search kept, at the page ``params`` name (none: the first)."""
    url = request.url.remove_query_params("cursor").include_query_params(**params)
    return f"{url.path}?{url.query}" if url.query else url.path
