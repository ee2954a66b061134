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

from fastapi import Request, Response
from sqlalchemy import Select
from sqlalchemy.orm import Session

from api.pagination import CURSOR_QUERY, Keyset, Page
from contracts.common import Line

Cursor = Annotated[Line | None, CURSOR_QUERY]


@dataclass(frozen=True)
class Shown:
    """A page: its rows, the addresses of the next page (when there are more) and of the first
    (when this is a later one), and the API's ``Page`` it was read as (its cursor and limit)."""

    rows: list[Any]
    next_url: str | None
    first_url: str | None
    page: Page


def page_rows(
    request: Request,
    session: Session,
    order: Keyset,
    query: Select[Any],
    cursor: str | None,
    *,
    size: int,
) -> Shown:
    """``size`` rows of ``query`` in ``order`` after ``cursor`` (none: the first page), read as
    the API reads a page. Its ``Link`` headers go to a response of their own, dropped: a page
    links its next page in its body."""
    start = order.decode(cursor) if cursor is not None else None
    page = Page(order, size, request, Response(), start)
    rows = page.records(session, query)
    next_url = _address(request, cursor=page.next_cursor) if page.next_cursor else None
    return Shown(rows, next_url, _address(request) if cursor is not None else None, page)


def _address(request: Request, **params: str) -> str:
    """This page's address, its search kept, at the page ``params`` name (none: the first)."""
    url = request.url.remove_query_params("cursor").include_query_params(**params)
    return f"{url.path}?{url.query}" if url.query else url.path
