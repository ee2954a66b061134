"""Keyset pagination for every list: an opaque cursor, a bounded limit, the next page in headers.

A list is ordered by a stable unique key (newest first, then the id, say). A page is the rows
strictly after the cursor, the last row's key, so paging through a list that grows meanwhile
never repeats or skips a row, and nothing grows with the depth of the page (an ``offset`` past
bigint once answered 500). The cursor is base64url of that key as JSON, named after its list,
and every part is checked against its column before it reaches a query: a malformed one is 422
naming ``cursor``. The body stays a JSON array; the next page's URL comes in an RFC 8288
``Link: <...>; rel="next"`` header (the request's other query parameters kept) and its cursor in
``X-Next-Cursor``; the last page has neither.

The inbox of notifications (``GET /notifications/inbox``) is the one list whose body is an
object, its items beside the unread count; it pages the same way.

A list's page is answered by its ``Listing``: the rows' fields (read from each row's loaded
state, ``loaded``) validated into the list's model once, as one list, and written as JSON in one
pass straight into the response. A route returning its models instead costs a pydantic
``__init__`` a row plus FastAPI's validation of the returned list against ``response_model`` on
a second thread hop; the JSON is the same bytes either way (FastAPI writes it with the same
``dump_json``), and the route still declares its ``response_model`` for the OpenAPI document.
"""

# No ``from __future__ import annotations``: FastAPI reads ``paged``'s inner signature at
# runtime, and its bounds come from the closure, which string annotations cannot see.

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    DateTime,
    Integer,
    Row,
    Select,
    String,
    and_,
    func,
    literal,
    or_,
)
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.orm.base import instance_state

from api.errors import invalid
from contracts.common import Line
from rules.figures import bounded

T = TypeVar("T")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)

MAX_CURSOR = 1000  # characters: a few keys of at most a few hundred characters each
_LINE = TypeAdapter(Line)

NEXT_PAGE_HEADERS: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            "Link": {
                "description": 'RFC 8288 `<url>; rel="next"`: the next page, with the same query '
                "parameters and its cursor; absent on the last page",
                "schema": {"type": "string"},
            },
            "X-Next-Cursor": {
                "description": "the next page's opaque `cursor`; absent on the last page",
                "schema": {"type": "string"},
            },
        }
    }
}
"""OpenAPI ``responses`` for a paged list: declares the next-page headers."""


def _parse_datetime(value: object) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    if moment is None or moment.tzinfo is None:
        raise ValueError("not an aware ISO 8601 date-time")
    return moment


def _parse_date(value: object) -> date:
    if not isinstance(value, str):
        raise ValueError("not an ISO 8601 date")
    return date.fromisoformat(value)


def _int_parser(bits: int) -> Callable[[object], int]:
    top = 2 ** (bits - 1) - 1

    def parse(value: object) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not -top - 1 <= value <= top:
            raise ValueError(f"not a {bits}-bit integer")
        return value

    return parse


def line_parser(max_length: int | None) -> Callable[[object], str]:
    """A cursor's text: a single line (no control character or lone surrogate) of at most
    ``max_length`` characters."""

    def parse(value: object) -> str:
        text = _LINE.validate_python(value, strict=True)
        if max_length is not None and len(text) > max_length:
            raise ValueError("longer than its column")
        return text

    return parse


def decimal_parser(*, digits: int, places: int) -> Callable[[object], Decimal]:
    """A cursor's number, written as text: finite and within ``digits`` and ``places``
    (``rules.figures``); a forged 1e999999 overflowed PostgreSQL's ``numeric``."""

    def parse(value: object) -> Decimal:
        if not isinstance(value, str):
            raise ValueError("not a decimal")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError("not a decimal") from None
        if not bounded(number, digits=digits, places=places):
            raise ValueError("not a decimal of its column")
        return number

    return parse


def _dump(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


@dataclass(frozen=True)
class Key:
    """One part of a list's order: the SQL it sorts by, how a row gives its value, how a value
    from a cursor is checked, and the direction."""

    expression: ColumnElement[Any] | InstrumentedAttribute[Any]
    read: Callable[[Any], Any]
    parse: Callable[[object], Any]
    descending: bool = False


def _column_key(column: InstrumentedAttribute[Any], *, descending: bool, nulls_as: Any) -> Key:
    kind = column.property.columns[0].type
    parse: Callable[[object], Any]
    if isinstance(kind, DateTime):
        parse = _parse_datetime
    elif isinstance(kind, Date):
        parse = _parse_date
    elif isinstance(kind, BigInteger):
        parse = _int_parser(64)
    elif isinstance(kind, Integer):
        parse = _int_parser(32)
    elif isinstance(kind, String):
        parse = line_parser(kind.length)
    else:
        raise TypeError(f"no cursor for a {kind!r} column")
    if nulls_as is None:
        return Key(column, attrgetter(column.key), parse, descending)
    # A key compares no NULL: a nullable column sorts as its stand-in value.
    read = attrgetter(column.key)
    return Key(
        func.coalesce(column, literal(nulls_as, kind)),
        lambda row: nulls_as if read(row) is None else read(row),
        parse,
        descending,
    )


def ascending(column: InstrumentedAttribute[Any], *, nulls_as: Any = None) -> Key:
    """``column`` ascending; a nullable one sorts its NULLs as ``nulls_as``."""
    return _column_key(column, descending=False, nulls_as=nulls_as)


def descending(column: InstrumentedAttribute[Any], *, nulls_as: Any = None) -> Key:
    """``column`` descending; a nullable one sorts its NULLs as ``nulls_as``."""
    return _column_key(column, descending=True, nulls_as=nulls_as)


def on(entity: str, *keys: Key) -> tuple[Key, ...]:
    """``keys`` read from one of a row's entities (``row.Contract``), for a list whose query
    selects several a row; a key's SQL is the same."""

    def reading(key: Key) -> Key:
        return replace(key, read=lambda row: key.read(getattr(row, entity)))

    return tuple(reading(key) for key in keys)


@dataclass(frozen=True)
class Keyset:
    """A list's order by a unique key, named so a cursor of one list is refused by another."""

    name: str
    keys: tuple[Key, ...]

    def order(self) -> list[ColumnElement[Any]]:
        return [k.expression.desc() if k.descending else k.expression.asc() for k in self.keys]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after ``values`` in this order: equal on the first keys, then beyond."""
        ways = []
        for i, key in enumerate(self.keys):
            equal = [k.expression == v for k, v in zip(self.keys[:i], values, strict=False)]
            beyond = key.expression < values[i] if key.descending else key.expression > values[i]
            ways.append(and_(*equal, beyond))
        # The first key's bound again on its own: PostgreSQL starts an index scan there instead
        # of filtering every row before the cursor, so a deep page costs what the first does.
        first, start = self.keys[0].expression, values[0]
        bound = first <= start if self.keys[0].descending else first >= start
        return and_(bound, or_(*ways))

    def encode(self, row: Any) -> str:
        raw = json.dumps([self.name, *(_dump(k.read(row)) for k in self.keys)])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> tuple[Any, ...]:
        """The key a cursor holds, every part checked against its column; else 422 naming it."""
        try:
            raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
            parts = json.loads(raw.decode())
        except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
            raise invalid("cursor", "not a cursor this API gave: pass X-Next-Cursor on") from None
        if not isinstance(parts, list) or len(parts) != len(self.keys) + 1:
            raise invalid("cursor", "not a cursor this API gave: pass X-Next-Cursor on")
        if parts[0] != self.name:
            raise invalid("cursor", f"a cursor of another list, not of {self.name}")
        try:
            return tuple(k.parse(v) for k, v in zip(self.keys, parts[1:], strict=True))
        except (ValueError, ValidationError):
            raise invalid("cursor", "not a cursor this API gave: pass X-Next-Cursor on") from None


@dataclass
class Page:
    """The page a request asks for; ``rows`` reads it and sets the next-page headers."""

    keyset: Keyset
    limit: int
    request: Request
    response: Response
    start: tuple[Any, ...] | None = None
    next_cursor: str | None = field(default=None, init=False)

    def rows(self, session: Session, query: Select[tuple[T]]) -> list[T]:
        """The rows of ``query`` on this page, in the keyset's order (the query orders nothing)."""
        statement = page_statement(self.keyset, query, self.start, self.limit)
        return self._kept(list(session.scalars(statement)))

    def records(self, session: Session, query: Select[Any]) -> list[Row[Any]]:
        """As ``rows``, for a query of several entities a row: the keyset reads its keys from
        the row (``on``)."""
        statement = page_statement(self.keyset, query, self.start, self.limit)
        return self._kept(list(session.execute(statement).all()))

    def _kept(self, found: list[R]) -> list[R]:
        """The page's rows of those found (one more than the page when there is a next), the
        next page's cursor and headers set."""
        if len(found) > self.limit:
            found = found[: self.limit]
            self.next_cursor = self.keyset.encode(found[-1])
        for name, value in self.headers().items():
            self.response.headers[name] = value
        return found

    def headers(self) -> dict[str, str]:
        """``Link`` and ``X-Next-Cursor`` when there is a next page (for a route that builds its
        own response, which does not get ``response``'s headers)."""
        if self.next_cursor is None:
            return {}
        url = self.request.url.include_query_params(cursor=self.next_cursor)
        return {"Link": f'<{url.path}?{url.query}>; rel="next"', "X-Next-Cursor": self.next_cursor}


def page_statement(
    keyset: Keyset, query: Select[tuple[T]], start: tuple[Any, ...] | None, limit: int
) -> Select[tuple[T]]:
    """``query`` as one page reads it: ordered by the keyset, after ``start``, one row more than
    ``limit`` (whether a next page exists). Query-plan tests EXPLAIN exactly this."""
    query = query.order_by(*keyset.order())
    if start is not None:
        query = query.where(keyset.after(start))
    return query.limit(limit + 1)


CURSOR_QUERY = Query(
    min_length=1,
    max_length=MAX_CURSOR,
    pattern=r"^[A-Za-z0-9_-]+$",
    description="X-Next-Cursor of the page before; leave out for the first page",
)
"""The ``cursor`` query parameter: checked at the edge before ``Keyset.decode`` reads it."""


def paged(keyset: Keyset, *, default: int = 100, maximum: int = 500) -> Any:
    """``Annotated[Page, paged(KEYSET)]``: the ``cursor`` and bounded ``limit`` query parameters."""

    # async: it does no I/O, and a plain def would cost every list a thread hop of its own.
    async def page(
        request: Request,
        response: Response,
        cursor: Annotated[Line | None, CURSOR_QUERY] = None,
        limit: Annotated[int, Query(ge=1, le=maximum, description="rows a page")] = default,
    ) -> Page:
        start = keyset.decode(cursor) if cursor is not None else None
        return Page(keyset, limit, request, response, start)

    return Depends(page)


def loaded(row: Any) -> Mapping[str, Any]:
    """An ORM row's column values as loaded, by name: its state's dictionary, read without an
    instrumented attribute's descriptor call per field (a fifth of a page's cost, per field of
    every row). An expired row (its session committed since) is reloaded first."""
    state = instance_state(row)
    if state.expired_attributes:
        getattr(row, next(iter(state.expired_attributes)))  # one SELECT loads them all
    values: dict[str, Any] = state.dict
    return values


class Listing(Generic[M]):
    """How a list's pages are answered: its items, models or their fields, validated as one
    ``list[model]`` and written as JSON at once; ``response_model`` is for the route's
    decorator, so the OpenAPI document shows what it showed when the route returned models."""

    def __init__(self, model: type[M]) -> None:
        self.response_model: Any = list[model]  # type: ignore[valid-type]
        self._items: TypeAdapter[list[M]] = TypeAdapter(self.response_model)

    def models(self, items: Sequence[M | Mapping[str, Any]]) -> list[M]:
        """The items as models, validated in one call; a model instance passes as it is."""
        return self._items.validate_python(items, from_attributes=True)

    def answer(
        self, page: Page, items: Sequence[M | Mapping[str, Any]], *, session: Session | None = None
    ) -> Response:
        """The page's response: the items as the model's JSON array, with the headers the
        request's dependencies set (the next page's among them). ``session``, when given, is
        done with and closed here, on the route's thread, so ending its transaction costs the
        request no thread hop of its own afterwards."""
        # The same calls FastAPI makes on a returned value (validated from attributes, dumped
        # by alias), so the bytes are those it would write.
        body = self._items.dump_json(self.models(items), by_alias=True)
        if session is not None:
            session.close()
        # Built as FastAPI builds a returned value's (its status and headers then the
        # dependencies' ones), so the headers come in the same order too.
        response = Response(
            body, status_code=page.response.status_code or 200, media_type="application/json"
        )
        response.headers.raw.extend(page.response.headers.raw)
        return response

    def answer_rows(
        self, page: Page, rows: Sequence[Any], *, session: Session | None = None
    ) -> Response:
        """``answer`` for ORM rows whose columns are the model's fields by name."""
        return self.answer(page, [loaded(row) for row in rows], session=session)
