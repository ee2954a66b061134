"""The regulator's search of filed e-waybills: its filters as query parameters and as SQL.

Dates without a time are days in China Standard Time, where the waybills are filed; a plate
matches whatever separators it was typed with; a hazard class covers its divisions; the maker is
the carrier organisation that made the waybill (none on those made before carriers did).

Each filter is written as the expression an index of migration 0017 is built on, so a search of
millions of waybills reads an index rather than every row: the carrier's name is matched folded
(``workbench.search``: spacing, case and full-width forms forgiven) on the folded name the
table keeps (``carrier_folded``, migration 0039, a GIN trigram index), the plate by its
separator-free upper-case key (an expression index on ``_plate``), the UN number by a GIN index
on the array.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute

from api.errors import invalid
from contracts.common import Line
from contracts.regulator import FilingStatus
from db.models import Waybill
from workbench.search import contains_folded

CST = timezone(timedelta(hours=8))
_PLATE_SEPARATORS = "·• -"


@dataclass(frozen=True)
class WaybillFilters:
    dispatched_from: date | None
    dispatched_to: date | None
    filed_from: str | None
    filed_to: str | None
    un_number: str | None
    hazard_class: str | None
    carrier: str | None
    vehicle_plate: str | None
    status: FilingStatus | None
    made_by_org_id: str | None

    def audited(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items() if v is not None}


def _filters(
    dispatched_from: date | None = None,
    dispatched_to: date | None = None,
    filed_from: Annotated[
        Line | None,
        Query(max_length=40, description="a date (its start, China time) or an aware date-time"),
    ] = None,
    filed_to: Annotated[
        Line | None,
        Query(max_length=40, description="a date (to its end, China time) or an aware date-time"),
    ] = None,
    un_number: Annotated[Line | None, Query(max_length=16, description="UN1789 or 1789")] = None,
    hazard_class: Annotated[
        Line | None,
        Query(pattern=r"^[1-9](\.[1-6][A-HJKLNS]?)?$", description="a class (8) or division (2.1)"),
    ] = None,
    carrier: Annotated[Line | None, Query(max_length=200, description="part of its name")] = None,
    vehicle_plate: Annotated[Line | None, Query(max_length=16)] = None,
    status_filter: Annotated[FilingStatus | None, Query(alias="status")] = None,
    made_by_org_id: Annotated[
        Line | None,
        Query(
            min_length=1,
            max_length=40,  # organisations.id
            description="the id of the carrier organisation that made the waybill",
        ),
    ] = None,
) -> WaybillFilters:
    return WaybillFilters(
        dispatched_from,
        dispatched_to,
        filed_from,
        filed_to,
        un_number,
        hazard_class,
        carrier,
        vehicle_plate,
        status_filter,
        made_by_org_id,
    )


Filters = Annotated[WaybillFilters, Depends(_filters)]


def _instant(value: str, field: str, *, end: bool) -> tuple[datetime, bool]:
    """The bound and whether it is inclusive: a date covers its whole day in China time."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        if end and day == date.max:
            raise invalid(field, f"a date before {date.max.isoformat()}")
        return datetime.combine(day + timedelta(days=1 if end else 0), time(), CST), not end
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(field, "must be a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise invalid(field, "a date-time must give its UTC offset")
    return moment, True


def _plate(value: ColumnElement[str] | InstrumentedAttribute[str] | str) -> ColumnElement[str]:
    """A plate's key: upper case without separators; ``ix_waybills_plate_key`` indexes it."""
    return func.upper(func.translate(value, _PLATE_SEPARATORS, ""))


def _conditions(f: WaybillFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.dispatched_from is not None:
        where.append(Waybill.dispatch_date >= f.dispatched_from)
    if f.dispatched_to is not None:
        where.append(Waybill.dispatch_date <= f.dispatched_to)
    if f.filed_from is not None:
        start, _ = _instant(f.filed_from, "filed_from", end=False)
        where.append(Waybill.filed_at >= start)
    if f.filed_to is not None:
        stop, inclusive = _instant(f.filed_to, "filed_to", end=True)
        where.append(Waybill.filed_at <= stop if inclusive else Waybill.filed_at < stop)
    if f.un_number:
        number = f.un_number.strip().upper()
        where.append(Waybill.un_numbers.contains([number if number[:2] == "UN" else "UN" + number]))
    if f.hazard_class:
        # A class covers its divisions ("2" finds 2.1) and compatibility groups ("1.4S").
        declared = func.array_to_string(Waybill.hazard_classes, ",")
        pattern = "(^|,)" + re.escape(f.hazard_class) + "([.A-Z][^,]*)?(,|$)"
        where.append(declared.regexp_match(pattern))
    if f.carrier:
        where.append(contains_folded(Waybill.carrier_folded, f.carrier))
    if f.vehicle_plate:
        where.append(_plate(Waybill.vehicle_plate) == _plate(f.vehicle_plate))
    if f.status is not None:
        where.append(Waybill.status == f.status.value)
    if f.made_by_org_id is not None:
        where.append(Waybill.made_by_org_id == f.made_by_org_id)
    return where


def search(f: WaybillFilters) -> Select[tuple[Waybill]]:
    return select(Waybill).where(*_conditions(f))
