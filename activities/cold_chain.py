"""A cold trip's records: the trip row from planning to arrival, and its figures as it goes.

The trip's workflow (``workflows.cold_chain``) calls these; the readings themselves are written by
the API (``temperature_readings``, keyed by logger and time). Assessing reads each assigned
logger's readings in the trip's window and runs ``rules.cold_chain.summary`` with its zone's
profile; the flattened figures are the workflow's view of the trip and are kept on the trip row
for the API to show. The decision (report, credit note) is ``activities.cold_chain_decisions``.

Every activity here is safe to retry: the trip is inserted once (conflict on its id does
nothing), a status moves only forward from the statuses it may leave, and figures are stored
only over older ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import get_args

from sqlalchemy import or_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.cold_chain_decisions import decide
from contracts.cold_chain import (
    ArriveTripInput,
    AssessInput,
    Assessment,
    BeginTripInput,
    DecisionInput,
    DecisionRecord,
    LoggerFigures,
    OpenTripInput,
    RunView,
)
from db.cold_chain import ColdTrip, TripStatus, readings_for, trip_loggers
from db.models import Order
from db.session import transaction
from rules.cold_chain import Reason, Summary, Verdict, summary
from rules.cold_chain_excursions import Run, Silence
from rules.cold_chain_forecast import Forecast
from rules.cold_chain_profiles import Reading
from rules.cold_chain_zones import profile_of
from storage.object_store import ObjectStore

# Worst first: the trip's verdict is the worst of its loggers'.
_SEVERITY = (Verdict.QUARANTINE, Verdict.RELEASE_WITH_DEVIATION, Verdict.ACCEPT)
_REASONS: tuple[Reason, ...] = get_args(Reason)  # the rules' order, worst first
# A logger hovering on a bound starts a run at each crossing: a month of it would be thousands
# of short runs, more than a workflow payload should carry. Every excursion is kept; of the
# short runs outside and the warning runs, each logger's latest (the ones alerts act on).
LATEST_SHORT_RUNS = 50


def unknown_trip(trip_id: str) -> ApplicationError:
    return ApplicationError(f"no cold trip {trip_id}", type="UnknownTrip", non_retryable=True)


class ColdChainActivities:
    def __init__(self, sessions: sessionmaker[Session], store: ObjectStore) -> None:
        self._sessions = sessions
        self._store = store

    @activity.defn(name="open_cold_trip")
    def open_cold_trip(self, trip: OpenTripInput) -> None:
        """Insert the planned trip; a retry finds it there and does nothing."""
        plan = {
            "zones": [zone.model_dump(mode="json") for zone in trip.zones],
            "lines": [line.model_dump(mode="json") for line in trip.lines],
        }
        with transaction(self._sessions) as session:
            order = session.get(Order, trip.order_id)
            if order is None:
                raise ApplicationError(
                    f"no order {trip.order_id}", type="UnknownOrder", non_retryable=True
                )
            session.execute(
                insert(ColdTrip)
                .values(
                    id=trip.trip_id,
                    order_id=trip.order_id,
                    shipment=trip.shipment,
                    status=TripStatus.PLANNED,
                    plan=plan,
                    carrier_org_id=order.carrier_org_id,
                    route="",
                )
                .on_conflict_do_nothing(index_elements=[ColdTrip.id])
            )

    @activity.defn(name="begin_cold_trip")
    def begin_cold_trip(self, begin: BeginTripInput) -> None:
        """The pickup: in transit from ``started_at``; only a planned trip moves, so a retry
        (or a late one after arrival) changes nothing."""
        self._move(
            begin.trip_id,
            (TripStatus.PLANNED,),
            status=TripStatus.IN_TRANSIT,
            started_at=begin.started_at,
            route=begin.route,
        )

    @activity.defn(name="arrive_cold_trip")
    def arrive_cold_trip(self, arrival: ArriveTripInput) -> None:
        """The delivery; a retry finds the trip arrived already and changes nothing."""
        self._move(
            arrival.trip_id,
            (TripStatus.PLANNED, TripStatus.IN_TRANSIT),
            status=TripStatus.ARRIVED,
            arrived_at=arrival.arrived_at,
        )

    def _move(self, trip_id: str, leaving: Sequence[str], **values: object) -> None:
        with transaction(self._sessions) as session:
            if session.get(ColdTrip, trip_id) is None:
                raise unknown_trip(trip_id)
            session.execute(
                update(ColdTrip)
                .where(ColdTrip.id == trip_id, ColdTrip.status.in_(leaving))
                .values(**values)
            )

    @activity.defn(name="assess_cold_trip")
    def assess_cold_trip(self, assess: AssessInput) -> Assessment:
        """Every assigned logger's figures as of ``now``, stored on the trip unless newer ones
        are there already (reads only, then one conditional update: safe to retry)."""
        profiles = {zone.zone: profile_of(zone) for zone in assess.zones}
        end = assess.trip_end or assess.now
        with self._sessions() as session:
            if session.get(ColdTrip, assess.trip_id) is None:
                raise unknown_trip(assess.trip_id)
            series = [
                (logger_id, zone, readings_for(session, logger_id, assess.trip_start, end))
                for logger_id, zone in trip_loggers(session, assess.trip_id)
            ]
        loggers: list[LoggerFigures] = []
        runs: list[RunView] = []
        warnings: list[RunView] = []
        for logger_id, zone, readings in series:
            profile = profiles.get(zone)
            if profile is None:
                raise ApplicationError(
                    f"logger {logger_id} is in zone {zone}, which trip {assess.trip_id} lacks",
                    type="UnknownZone",
                    non_retryable=True,
                )
            trip = summary(
                readings,
                profile,
                trip_start=assess.trip_start,
                trip_end=assess.trip_end,
                now=assess.now,
            )
            loggers.append(logger_figures(logger_id, zone, trip, readings))
            runs.extend(run_views(logger_id, zone, trip.out_of_range, always=_is_excursion))
            warnings.extend(run_views(logger_id, zone, trip.warnings, always=_never))
        assessment = trip_assessment(assess, loggers, runs, warnings)
        with transaction(self._sessions) as session:
            session.execute(
                update(ColdTrip)
                .where(
                    ColdTrip.id == assess.trip_id,
                    or_(ColdTrip.figures_at.is_(None), ColdTrip.figures_at < assessment.as_of),
                )
                .values(figures=assessment.model_dump(mode="json"), figures_at=assessment.as_of)
            )
        return assessment

    @activity.defn(name="record_cold_decision")
    def record_cold_decision(self, decision: DecisionInput) -> DecisionRecord:
        """The report (and credit note) rendered once each by document id, the rows written
        once (activities.cold_chain_decisions): a retry returns what the first recorded."""
        return decide(self._sessions, self._store, decision)


def _is_excursion(run: Run) -> bool:
    return run.is_excursion


def _never(run: Run) -> bool:
    return False


def run_views(
    logger_id: str, zone: str, found: Sequence[Run], *, always: Callable[[Run], bool]
) -> list[RunView]:
    """The runs as the workflow sees them: those ``always`` keeps, and the latest others."""
    others = [run for run in found if not always(run)][-LATEST_SHORT_RUNS:]
    kept = {id(run) for run in others}
    return [
        RunView(
            logger_id=logger_id,
            zone=zone,
            side=run.side,
            start=run.start,
            end=run.end,
            duration_s=int(run.duration.total_seconds()),
            peak_celsius=run.extreme_celsius,
            ongoing=run.open,
            is_excursion=run.is_excursion,
            critical=run.critical,
        )
        for run in found
        if always(run) or id(run) in kept
    ]


def _seconds(span: timedelta) -> int:
    return int(span.total_seconds())


def _breach(forecast: Forecast | None) -> tuple[datetime | None, str]:
    """When the trend crosses the range, or (already outside) when the budget is gone."""
    if forecast is None:
        return None, ""
    if forecast.breach_at > forecast.as_of:
        return forecast.breach_at, "range"
    return forecast.budget_gone_at, "budget"


def _silence(found: Silence) -> str:
    """ "gap 2026-03-01T10:00:00+00:00/2026-03-01T10:40:00+00:00" (an ISO 8601 interval)."""
    start, end = (at.astimezone(UTC).isoformat() for at in (found.start, found.end))
    return f"{found.kind} {start}/{end}"


def logger_figures(
    logger_id: str, zone: str, trip: Summary, readings: Sequence[Reading]
) -> LoggerFigures:
    """One logger's summary flattened; ``readings``: the window's, in time order."""
    figures = trip.figures
    breach_at, breach_kind = _breach(trip.forecast)
    return LoggerFigures(
        logger_id=logger_id,
        zone=zone,
        readings=figures.readings,
        min_celsius=figures.min_celsius,
        max_celsius=figures.max_celsius,
        mean_celsius=figures.mean_celsius,
        mkt_celsius=figures.mkt_celsius,
        time_logged_s=_seconds(figures.time_logged),
        time_in_range_s=_seconds(figures.time_in_range),
        time_out_of_range_s=_seconds(figures.time_out_of_range),
        budget_left_s=_seconds(figures.budget_left),
        budget_exhausted=trip.budget.exhausted,
        last_reading_at=readings[-1].at if readings else None,
        breach_at=breach_at,
        breach_kind=breach_kind,
        verdict=trip.verdict.value,
        reasons=trip.reasons,
        silences=tuple(_silence(found) for found in trip.silences),
    )


def trip_assessment(
    assess: AssessInput,
    loggers: Sequence[LoggerFigures],
    runs: Sequence[RunView],
    warnings: Sequence[RunView],
) -> Assessment:
    """The trip's verdict is its worst logger's; with no logger there is no evidence at all."""
    reasons: tuple[str, ...]
    if not loggers:
        verdict, reasons = Verdict.QUARANTINE, ("no_readings",)
    else:
        verdict = min((Verdict(x.verdict) for x in loggers), key=_SEVERITY.index)
        found = {reason for logger in loggers for reason in logger.reasons}
        reasons = tuple(reason for reason in _REASONS if reason in found)
    return Assessment(
        trip_id=assess.trip_id,
        as_of=assess.now,
        arrived=assess.trip_end is not None,
        loggers=tuple(loggers),
        runs=tuple(runs),
        warnings=tuple(warnings),
        verdict=verdict.value,
        reasons=reasons,
    )
