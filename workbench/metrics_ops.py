"""The dashboard's operations figures, in SQL: how long decisions take, e-waybill filing, cold
chain excursions and losses, the loan book, and filings per day for the regulator.

Like ``workbench.metrics_orders``, each query takes the conditions the API's own access rules
give the caller (the tasks of ``api.routes.tasks.timed_tasks_of``, the orders of
``visible_sides``, the loans of ``visible_loans``) and only narrows them. Money stays numeric
and per currency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    Select,
    SQLColumnExpression,
    cast,
    func,
    select,
    tuple_,
)
from sqlalchemy import type_coerce as coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from contracts.regulator import FilingStatus
from db.cold_chain import ColdTrip, TripStatus
from db.finance import Loan
from db.models import HumanTask, Order, Organisation, Waybill, WaybillFiling
from workbench.metrics_orders import Conditions, china_day, china_week, had_excursion, seen
from workflows.order_filing import WAYBILL_TASK

_HOURS = 3600.0


@dataclass(frozen=True)
class DecisionTimes:
    """The tasks of one process and kind decided since a day: how many, and the hours they took
    from creation to decision, median and p90. Process and kind are None for every task."""

    process: str | None
    kind: str | None
    decided: int
    median: float
    p90: float


def decision_hours(
    session: Session, tasks: Sequence[ColumnElement[bool]], start: datetime
) -> tuple[list[DecisionTimes], DecisionTimes | None]:
    """The caller's tasks decided since ``start``, by (process, kind), and all of them together
    (None when there are none). The percentiles are PostgreSQL's ``percentile_cont``: a busy
    platform decides thousands of tasks a week, which were read one by one and sorted in
    Python for every figure (12,000 rows, 51 ms of the staff dashboard at ``make
    seed-large``'s fifth)."""
    decided = decided_tasks(tasks, start).subquery()
    process, kind, took = decided.c.process, decided.c.kind, decided.c.took
    query = select(
        process,
        kind,
        func.count(),
        *_median_p90(took),
        func.grouping(process, kind),
    ).group_by(func.grouping_sets(tuple_(process, kind), tuple_()))
    groups: list[DecisionTimes] = []
    every: DecisionTimes | None = None
    for name, of_kind, count, median, p90, total in session.execute(query):
        if not count:  # the total of no tasks at all
            continue
        times = DecisionTimes(name, of_kind, count, float(median), float(p90))
        if total:
            every = times
        else:
            groups.append(times)
    return groups, every


def _median_p90(hours: ColumnElement[Any]) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The median and p90 of ``hours``, interpolated between ranks (NULLs left out)."""
    return (
        func.percentile_cont(0.5).within_group(hours),
        func.percentile_cont(0.9).within_group(hours),
    )


def decided_tasks(tasks: Sequence[ColumnElement[bool]], start: datetime) -> Select[Any]:
    """(process, kind, hours taken) of the tasks decided since ``start``, read from the
    decisions' index (migration 0038), not among every task ever opened."""
    process = func.split_part(HumanTask.workflow_id, ":", 1)
    took = func.extract("epoch", HumanTask.decided_at - HumanTask.created_at) / _HOURS
    return (
        select(process.label("process"), HumanTask.kind.label("kind"), took.label("took"))
        .where(*tasks)
        .where(HumanTask.decided_at.is_not(None), HumanTask.decided_at >= start)
    )


@dataclass(frozen=True)
class FilingFigures:
    """E-waybill filings: accepted, refused by the regulator, and the hours from the carrier's
    submission to the regulator's receipt of the accepted ones, median and p90 (None: none was
    timed)."""

    filed: int
    refused: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Filings(FilingFigures):
    """A week's filings."""

    week: date


def accepted_filings(sides: Conditions, start: datetime) -> Select[Any]:
    """Each accepted filing since ``start`` of the orders ``sides`` keeps: its week and its
    seconds from the last submission of its e-waybill decided before the receipt (None: none
    was), that submission looked up by migration 0037's index."""
    submitted = (
        select(func.max(HumanTask.decided_at))
        .where(
            HumanTask.kind == WAYBILL_TASK,
            HumanTask.details["waybill_number"].astext == WaybillFiling.waybill_number,
            HumanTask.decided_at <= WaybillFiling.at,
        )
        .scalar_subquery()
    )
    took = func.extract("epoch", WaybillFiling.at - submitted)
    return seen(
        select(china_week(WaybillFiling.at).label("week"), took.label("seconds"))
        .join(Waybill, Waybill.waybill_number == WaybillFiling.waybill_number)
        .join(Order, Order.id == Waybill.order_id)
        .where(WaybillFiling.kind == FilingStatus.FILED.value, WaybillFiling.at >= start),
        sides,
    )


def filings_by_week(
    session: Session, sides: Conditions, start: datetime
) -> tuple[list[Filings], FilingFigures]:
    """Each week's filings, and all of them. Accepted filings are the regulator's receipts
    (``waybill_filings``); a refusal is the submission task it sends back, whose problems
    start "regulator:" (the process records a refusal nowhere else). The percentiles are
    PostgreSQL's, as the decision hours'."""
    accepted = accepted_filings(sides, start).subquery()
    hours_taken = accepted.c.seconds / _HOURS
    by_week = select(
        accepted.c.week,
        func.count(),
        *_median_p90(hours_taken),
        func.grouping(accepted.c.week),
    ).group_by(func.grouping_sets(tuple_(accepted.c.week), tuple_()))
    weeks: dict[date, Filings] = {}
    every = FilingFigures(0, 0, None, None)
    for week, count, median, p90, total in session.execute(by_week):
        if total:  # the grouping of every week
            every = FilingFigures(count, 0, _hours(median), _hours(p90))
        else:
            weeks[week] = Filings(count, 0, _hours(median), _hours(p90), week=week)
    week_of = china_week(HumanTask.created_at)
    refusals = seen(
        select(week_of, func.count())
        .join(Order, Order.id == HumanTask.subject_id)
        .where(
            HumanTask.kind == WAYBILL_TASK,
            HumanTask.details["problems"].astext.like("regulator:%"),
            HumanTask.created_at >= start,
        )
        .group_by(week_of),
        sides,
    )
    refused = dict(session.execute(refusals).tuples().all())
    for week, count in refused.items():
        found = weeks.get(week) or Filings(0, 0, None, None, week=week)
        weeks[week] = replace(found, refused=count)
    every = replace(every, refused=sum(refused.values()))
    return [weeks[w] for w in sorted(weeks)], every


def _hours(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class ColdRecord:
    """Decided cold trips of a route or a carrier: with an excursion, quantities lost and
    shipped (the loss rate's terms, as the trip's report sums them) and the value lost."""

    group: str
    trips: int
    excursions: int
    lost: Decimal
    shipped: Decimal
    loss_value: tuple[tuple[str, Decimal], ...]


def _quantity(column: SQLColumnExpression[Any]) -> ColumnElement[Decimal]:
    """The sum of a JSON object's decimal-text values ({"L1": "12.5", ...}), in numeric."""
    each = func.jsonb_each_text(coerce(column, JSONB)).table_valued("key", "value")
    total = select(func.coalesce(func.sum(cast(each.c.value, Numeric)), 0)).scalar_subquery()
    return func.coalesce(total, 0)


def cold_records(
    session: Session, sides: Conditions, start: datetime, *, by: str
) -> list[ColdRecord]:
    """Cold trips decided since ``start``, by ``route`` or by ``carrier`` (its name)."""
    group: ColumnElement[str] = (
        func.coalesce(func.nullif(ColdTrip.route, ""), "—")
        if by == "route"
        else func.coalesce(Organisation.legal_name, "—")
    )
    excursion = had_excursion()
    query = (
        select(
            group,
            ColdTrip.currency,
            func.count(),
            func.count().filter(excursion),
            func.sum(_quantity(ColdTrip.lost)),
            func.sum(_quantity(ColdTrip.shipped)),
            func.coalesce(func.sum(ColdTrip.loss_value), 0),
        )
        .select_from(ColdTrip)
        .join(Order, Order.id == ColdTrip.order_id)
        .outerjoin(Organisation, Organisation.id == ColdTrip.carrier_org_id)
        .where(ColdTrip.status == TripStatus.DECIDED, ColdTrip.decided_at >= start)
        .group_by(group, ColdTrip.currency)
        .order_by(group, ColdTrip.currency)
    )
    found: dict[str, ColdRecord] = {}
    for name, code, trips, excursions, lost, shipped, value in session.execute(seen(query, sides)):
        was = found.get(name, ColdRecord(name, 0, 0, Decimal(0), Decimal(0), ()))
        values = was.loss_value + (((code, Decimal(value)),) if code and value else ())
        found[name] = ColdRecord(
            name,
            was.trips + trips,
            was.excursions + excursions,
            was.lost + Decimal(lost or 0),
            was.shipped + Decimal(shipped or 0),
            values,
        )
    return list(found.values())


@dataclass(frozen=True)
class Exposure:
    """What loans of one grade and status still owe, in one currency (the balance of record)."""

    currency: str
    grade: str
    status: str
    loans: int
    owed: Decimal


def loan_exposure(session: Session, sides: Conditions) -> list[Exposure]:
    """Loans still owing anything, by currency, credit grade and status."""
    owed = Loan.principal_owed + Loan.fee_owed + Loan.interest_owed + Loan.penalty_owed
    grade = func.coalesce(coerce(Loan.terms, JSONB)["grade"].astext, "—")
    query = (
        select(Loan.currency, grade, Loan.status, func.count(), func.sum(owed))
        .where(owed > 0)
        .group_by(Loan.currency, grade, Loan.status)
        .order_by(Loan.currency, grade, Loan.status)
    )
    rows = session.execute(seen(query, sides))
    return [Exposure(code, g, status, n, Decimal(total)) for code, g, status, n, total in rows]


def loan_currencies(session: Session, sides: Conditions) -> list[str]:
    """The currencies the caller's loans are in: the bad-debt rate is one per currency."""
    query = select(Loan.currency).distinct().order_by(Loan.currency)
    return list(session.scalars(seen(query, sides)))


def filings_by_day(session: Session, start: datetime) -> list[tuple[date, int]]:
    """Filed e-waybills per China day since ``start``: the regulator's own window."""
    day = china_day(Waybill.filed_at)
    query = select(day, func.count()).where(Waybill.filed_at >= start).group_by(day).order_by(day)
    return [(d, int(n)) for d, n in session.execute(query)]
