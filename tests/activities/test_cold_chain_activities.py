"""Cold-chain activities on real PostgreSQL: the trip row, figures from stored readings whatever
order they arrived in, silences, and the decision recorded once with its report and credit note."""

from __future__ import annotations

import io
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.cold_chain import ColdChainActivities
from contracts.cold_chain import (
    ArriveTripInput,
    AssessInput,
    Assessment,
    BeginTripInput,
    ColdLine,
    DecisionInput,
    Disposition,
    Liable,
    OpenTripInput,
    ZoneProfile,
    trip_id_for,
)
from contracts.common import Actor, Money, OrgKind, Role
from contracts.fulfilment import ShipmentLine
from db.cold_chain import ColdTrip, CreditNote, LoggerAssignment, TripStatus, bucket_width
from db.models import AuditEntry, Document, Order
from db.session import transaction
from storage.object_store import ObjectStore, get_verified
from tests.harness import cold_chain as c
from tests.harness import listings
from tests.harness.builders import make_org

REFRIGERATED = ZoneProfile(
    zone="refrigerated",
    label="refrigerated 2-8 °C",
    min_celsius=Decimal(2),
    max_celsius=Decimal(8),
)
LINE = ColdLine(
    line_id="L1",
    description="Vaccine cold packs",
    quantity=Decimal(100),
    unit="box",
    unit_price=Decimal("12.50"),
    zone="refrigerated",
)


def every_minute(start: datetime, values: list[str]) -> list[tuple[datetime, Decimal]]:
    return [(start + timedelta(minutes=i), Decimal(v)) for i, v in enumerate(values)]


START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
# A chilled trip (2-8 °C) of three hours, a reading a minute: a short run outside (10 min at
# 9 °C, under the 30-minute tolerance), an excursion (40 min at 9.5 °C), a warning (20 min at
# 7.8 °C, within the 0.5 °C margin) and the middle of the range between.
TRIP = every_minute(
    START, ["5"] * 30 + ["9"] * 10 + ["5"] * 20 + ["9.5"] * 40 + ["7.8"] * 20 + ["5"] * 60
)
END = TRIP[-1][0]


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()


@pytest.fixture
def cold(sessions: sessionmaker[Session], store: ObjectStore) -> ColdChainActivities:
    return ColdChainActivities(sessions, store)


@dataclass(frozen=True)
class Carried:
    order_id: str
    buyer_org_id: str
    carrier_org_id: str


def carried_order(sessions: sessionmaker[Session]) -> Carried:
    """An order between a new buyer and supplier, carried by a new carrier."""
    buyer = make_org(sessions, kind=OrgKind.BUYER)
    supplier = make_org(sessions, kind=OrgKind.SUPPLIER)
    carrier = make_org(sessions, kind=OrgKind.CARRIER)
    [order_id] = listings.orders(sessions, buyer.id, supplier.id, 1)
    with transaction(sessions) as session:
        session.execute(update(Order).where(Order.id == order_id).values(carrier_org_id=carrier.id))
    return Carried(order_id, buyer.id, carrier.id)


def open_input(order: Carried) -> OpenTripInput:
    return OpenTripInput(
        trip_id=trip_id_for(order.order_id, 1),
        order_id=order.order_id,
        shipment=1,
        zones=(REFRIGERATED,),
        lines=(LINE,),
    )


def _logger(sessions: sessionmaker[Session], trip_id: str, order: Carried) -> str:
    logger_id = f"LOG-{uuid.uuid4().hex[:12]}"
    c.logger_on_trip(
        sessions,
        org_id=order.carrier_org_id,
        trip_id=trip_id,
        logger_id=logger_id,
        zone=REFRIGERATED.zone,
    )
    return logger_id


def _assess(trip_id: str, *, end: datetime | None, now: datetime) -> AssessInput:
    return AssessInput(
        trip_id=trip_id, zones=(REFRIGERATED,), trip_start=START, trip_end=end, now=now
    )


def _opened(
    env: ActivityEnvironment, cold: ColdChainActivities, sessions: sessionmaker[Session]
) -> tuple[Carried, str]:
    order = carried_order(sessions)
    opening = open_input(order)
    env.run(cold.open_cold_trip, opening)
    env.run(cold.begin_cold_trip, BeginTripInput(trip_id=opening.trip_id, started_at=START))
    return order, opening.trip_id


def test_the_trip_is_opened_begun_and_arrived_once_however_often_retried(
    env: ActivityEnvironment, cold: ColdChainActivities, sessions: sessionmaker[Session]
) -> None:
    order = carried_order(sessions)
    opening = open_input(order)
    for _ in range(2):
        env.run(cold.open_cold_trip, opening)
    with sessions() as session:
        row = session.get(ColdTrip, opening.trip_id)
        assert row is not None
        assert (row.status, row.carrier_org_id) == (TripStatus.PLANNED, order.carrier_org_id)
        assert row.plan["lines"][0]["line_id"] == "L1"
        assert row.plan["zones"][0]["max_celsius"] == "8"
    begin = BeginTripInput(trip_id=opening.trip_id, started_at=START, route="Wuxi - Shanghai")
    for _ in range(2):
        env.run(cold.begin_cold_trip, begin)
    arrival = ArriveTripInput(trip_id=opening.trip_id, arrived_at=END)
    for _ in range(2):
        env.run(cold.arrive_cold_trip, arrival)
    # A begin delivered late, after the arrival, moves nothing back.
    env.run(cold.begin_cold_trip, begin)
    with sessions() as session:
        row = session.get(ColdTrip, opening.trip_id)
        assert row is not None
        assert (row.status, row.started_at, row.arrived_at, row.route) == (
            TripStatus.ARRIVED,
            START,
            END,
            "Wuxi - Shanghai",
        )


def test_an_unknown_trip_is_not_retried(
    env: ActivityEnvironment, cold: ColdChainActivities
) -> None:
    with pytest.raises(ApplicationError) as refused:
        env.run(cold.assess_cold_trip, _assess("ord-nothing-S1", end=None, now=END))
    assert (refused.value.type, refused.value.non_retryable) == ("UnknownTrip", True)
    with pytest.raises(ApplicationError) as refused:
        env.run(cold.begin_cold_trip, BeginTripInput(trip_id="ord-nothing-S1", started_at=START))
    assert refused.value.non_retryable


def test_figures_are_the_same_whatever_order_the_readings_arrived_in(
    env: ActivityEnvironment, cold: ColdChainActivities, sessions: sessionmaker[Session]
) -> None:
    figures = []
    for shuffled in (False, True):
        order, trip_id = _opened(env, cold, sessions)
        logger = _logger(sessions, trip_id, order)
        readings = list(TRIP)
        if shuffled:
            random.Random(7).shuffle(readings)
        for i in range(0, len(readings), 25):
            c.store(sessions, trip_id, logger, readings[i : i + 25])
        if shuffled:  # a logger resending a batch
            c.store(sessions, trip_id, logger, readings[:50])
        assessment = env.run(cold.assess_cold_trip, _assess(trip_id, end=END, now=END))
        figures.append(assessment.model_dump(exclude={"trip_id"}, mode="json"))
        [one] = assessment.loggers
        assert (one.readings, one.min_celsius, one.max_celsius) == (180, Decimal(5), Decimal("9.5"))
        assert (one.time_out_of_range_s, one.budget_left_s) == (3000, 4200)
        short, excursion = assessment.runs
        assert (short.duration_s, short.is_excursion, short.peak_celsius) == (
            600,
            False,
            Decimal(9),
        )
        assert (excursion.duration_s, excursion.is_excursion) == (2400, True)
        assert excursion.start == START + timedelta(minutes=60)
        assert not excursion.ongoing and not excursion.critical
        [warning] = assessment.warnings
        assert (warning.duration_s, warning.side, warning.is_excursion) == (1200, "above", False)
        assert (assessment.verdict, assessment.reasons) == (
            "release_with_deviation",
            ("excursion",),
        )
        assert assessment.arrived
    for each in figures:
        for logger in each["loggers"]:
            logger.pop("logger_id")
        for run in each["runs"] + each["warnings"]:
            run.pop("logger_id")
    assert figures[0] == figures[1]


def test_a_silent_logger_shows_a_silence_and_a_trip_without_loggers_is_quarantined(
    env: ActivityEnvironment, cold: ColdChainActivities, sessions: sessionmaker[Session]
) -> None:
    order, trip_id = _opened(env, cold, sessions)
    now = START + timedelta(minutes=90)
    talking = _logger(sessions, trip_id, order)
    silent = _logger(sessions, trip_id, order)
    c.store(sessions, trip_id, talking, every_minute(START, ["5"] * 91))
    c.store(sessions, trip_id, silent, every_minute(START, ["5"] * 30))
    assessment = env.run(cold.assess_cold_trip, _assess(trip_id, end=None, now=now))
    by_logger = {x.logger_id: x for x in assessment.loggers}
    assert by_logger[talking].silences == ()
    assert by_logger[silent].silences == (
        "ongoing 2026-03-02T08:29:00+00:00/2026-03-02T09:30:00+00:00",
    )
    assert by_logger[silent].last_reading_at == START + timedelta(minutes=29)
    assert (assessment.verdict, assessment.reasons) == ("release_with_deviation", ("silence",))
    assert not assessment.arrived

    _, empty_trip = _opened(env, cold, sessions)
    empty = env.run(cold.assess_cold_trip, _assess(empty_trip, end=None, now=now))
    assert (empty.loggers, empty.verdict, empty.reasons) == ((), "quarantine", ("no_readings",))


def test_the_trip_keeps_its_newest_figures(
    env: ActivityEnvironment, cold: ColdChainActivities, sessions: sessionmaker[Session]
) -> None:
    order, trip_id = _opened(env, cold, sessions)
    logger = _logger(sessions, trip_id, order)
    c.store(sessions, trip_id, logger, TRIP)
    later = env.run(cold.assess_cold_trip, _assess(trip_id, end=None, now=END))
    env.run(cold.assess_cold_trip, _assess(trip_id, end=None, now=END - timedelta(hours=1)))
    with sessions() as session:
        row = session.get(ColdTrip, trip_id)
        assert row is not None and row.figures is not None
        assert row.figures_at == END
        assert Assessment.model_validate(row.figures) == later


def test_a_month_of_readings_a_minute_is_assessed(
    env: ActivityEnvironment, cold: ColdChainActivities, sessions: sessionmaker[Session]
) -> None:
    order, trip_id = _opened(env, cold, sessions)
    logger = _logger(sessions, trip_id, order)
    with sessions() as session, session.begin():
        session.execute(
            text(
                "INSERT INTO temperature_readings (logger_id, at, trip_id, celsius) "
                "SELECT :logger, :start + make_interval(mins => i), :trip, 4 + (i % 5) "
                "FROM generate_series(0, 43199) AS i"
            ),
            {"logger": logger, "start": START, "trip": trip_id},
        )
    now = START + timedelta(days=30)
    assessment = env.run(cold.assess_cold_trip, _assess(trip_id, end=None, now=now))
    [one] = assessment.loggers
    assert (one.readings, one.min_celsius, one.max_celsius) == (43200, Decimal(4), Decimal(8))
    assert (assessment.verdict, assessment.runs) == ("accept", ())


def test_a_trip_of_any_length_is_charted_in_at_most_300_buckets() -> None:
    for span in (timedelta(0), timedelta(hours=3), timedelta(days=3), timedelta(days=400)):
        width = bucket_width(span)
        assert span <= width * 300
    assert bucket_width(timedelta(hours=3)) == timedelta(minutes=1)
    assert bucket_width(timedelta(days=3)) == timedelta(minutes=15)
    assert bucket_width(timedelta(days=30)) == timedelta(hours=3)


def _count(sessions: sessionmaker[Session], model: type, **where: object) -> int:
    with sessions() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.scalar(query) or 0)


def test_the_decision_is_recorded_once_with_its_report_and_credit_note(
    env: ActivityEnvironment,
    cold: ColdChainActivities,
    sessions: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    order, trip_id = _opened(env, cold, sessions)
    logger = _logger(sessions, trip_id, order)
    c.store(sessions, trip_id, logger, TRIP)
    env.run(cold.arrive_cold_trip, ArriveTripInput(trip_id=trip_id, arrived_at=END))
    final = env.run(cold.assess_cold_trip, _assess(trip_id, end=END, now=END))
    buyer = Actor(user_id="usr_test_buyer", org_id=order.buyer_org_id, roles=(Role.BUYER,))
    decided_at = END + timedelta(hours=2)
    decision = DecisionInput(
        trip_id=trip_id,
        order_id=order.order_id,
        shipment=1,
        disposition=Disposition.ACCEPT_WITH_CLAIM,
        quarantined=True,
        automatic=False,
        decided_by=buyer,
        decided_at=decided_at,
        comment="20 boxes warm to the touch",
        lost=(ShipmentLine(line_id="L1", quantity=Decimal(20)),),
        shipped=(ShipmentLine(line_id="L1", quantity=Decimal(100)),),
        claim=Money(amount=Decimal("282.50"), currency="CNY"),
        liable=Liable.CARRIER,
        liable_org_id=order.carrier_org_id,
        carrier_org_id=order.carrier_org_id,
        gs1_disposition="sellable_accessible",
        assessment=final,
    )
    first = env.run(cold.record_cold_decision, decision)
    again = env.run(cold.record_cold_decision, decision)
    assert first == again
    credit_note_id = f"CN-{order.order_id.removeprefix('ord-')}-1"
    assert first.credit_note_id == credit_note_id
    assert first.report.document_id == f"TR-{trip_id}:pdf"

    assert _count(sessions, CreditNote, trip_id=trip_id) == 1
    assert _count(sessions, Document, id=f"TR-{trip_id}:pdf") == 1
    assert _count(sessions, Document, id=f"CN-{trip_id}:pdf") == 1
    assert _count(sessions, AuditEntry, action="cold_chain.decided", target_id=trip_id) == 1
    assert _count(sessions, AuditEntry, action="credit_note.issued", target_id=credit_note_id) == 1
    with sessions() as session:
        note = session.get(CreditNote, credit_note_id)
        assert note is not None
        assert (note.amount, note.currency, note.liable_org_id) == (
            Decimal("282.50"),
            "CNY",
            order.carrier_org_id,
        )
        assert note.reason == "accept_with_claim: 20 boxes warm to the touch"
        row = session.get(ColdTrip, trip_id)
        assert row is not None
        assert (row.status, row.disposition, row.lost, row.shipped) == (
            TripStatus.DECIDED,
            "accept_with_claim",
            {"L1": "20"},
            {"L1": "100"},
        )
        assert (row.loss_value, row.liable, row.decided_by, row.decided_at) == (
            Decimal("282.50"),
            "carrier",
            "usr_test_buyer",
            decided_at,
        )
        assert (row.credit_note_id, row.report_document_id) == (credit_note_id, f"TR-{trip_id}:pdf")
        released = session.scalars(
            select(LoggerAssignment.released_at).where(LoggerAssignment.trip_id == trip_id)
        ).all()
        assert released == [decided_at]

    report = _pdf_text(get_verified(store, first.report.sha256))
    for expected in ("温度记录报告 Temperature Report", "40 min 9.50 °C", "CNY 282.50"):
        assert expected in report
    assert credit_note_id in report
    credit_note = _pdf_text(get_verified(store, _sha256(sessions, f"CN-{trip_id}:pdf")))
    assert credit_note_id in credit_note
    assert "CNY 282.50" in credit_note


def _sha256(sessions: sessionmaker[Session], document_id: str) -> str:
    with sessions() as session:
        row = session.get(Document, document_id)
        assert row is not None
        return row.sha256


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
