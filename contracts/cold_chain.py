"""Cold chain: a temperature-controlled shipment's trip, its loggers' readings, the figures the
workflow acts on, and the buyer's disposition on arrival.

A shipment whose lines carry a temperature range gets a trip (``trip_id_for``): one or more
zones (a profile each; more than one only on a vehicle with zones), the loggers assigned to it,
readings posted in batches by each logger, and a ``ColdChainWorkflow`` from pickup to
disposition. Durations cross the workflow boundary as whole seconds, temperatures as Decimal °C.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from contracts.common import Actor, DocumentRef, Frozen, Line, Money, Text
from contracts.fulfilment import ColdChainResult, ShipmentLine
from contracts.tasks import TaskSpec

Celsius = Annotated[Decimal, Field(ge=-100, le=100, max_digits=6, decimal_places=2)]
Humidity = Annotated[Decimal, Field(ge=-1000, le=1000, max_digits=6, decimal_places=2)]
LoggerId = Annotated[Line, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")]
ZoneName = Annotated[Line, Field(pattern=r"^[a-z0-9_-]{1,40}$")]
MAX_BATCH = 2000  # readings per POST: a day of one-minute readings and some to spare


def trip_id_for(order_id: str, shipment: int) -> str:
    """A cold shipment's trip: one per shipment, the readings' and the workflow's key."""
    return f"{order_id}-S{shipment}"


def cold_chain_workflow_id(trip_id: str) -> str:
    return f"ColdChain:{trip_id}"


class ZoneProfile(Frozen):
    """A zone's temperature profile, as ``rules.cold_chain_profiles.Profile`` takes it."""

    zone: ZoneName
    label: Line = Field(max_length=80)  # e.g. "chilled 0-4 °C"
    min_celsius: Decimal | None
    max_celsius: Decimal | None
    warning_margin: Decimal = Decimal("0.5")
    critical_min_celsius: Decimal | None = None
    critical_max_celsius: Decimal | None = None
    single_tolerance_s: int = 1800
    cumulative_tolerance_s: int = 7200
    max_silence_s: int = 900
    delta_h_j_per_mol: Decimal = Decimal(83144)
    mkt_label_max_celsius: Decimal | None = None


class ColdLine(Frozen):
    """A temperature-controlled line of the shipment: what travels, in which zone, its price."""

    line_id: Line = Field(max_length=20)
    description: Text = Field(max_length=200)
    quantity: Decimal
    unit: Line = Field(max_length=20)
    unit_price: Decimal
    zone: ZoneName


class OpenTripInput(Frozen):
    """Record the trip when the shipment is planned, so loggers can be assigned before pickup."""

    trip_id: Line = Field(max_length=100)
    order_id: Line = Field(max_length=80)
    shipment: int
    zones: tuple[ZoneProfile, ...]
    lines: tuple[ColdLine, ...]


class BeginTripInput(Frozen):
    """The pickup: the trip is under way and readings are taken from ``started_at``."""

    trip_id: Line = Field(max_length=100)
    started_at: datetime
    route: Line = Field(default="", max_length=400)


class ArriveTripInput(Frozen):
    """The delivery: readings up to ``arrived_at`` are still taken until the decision."""

    trip_id: Line = Field(max_length=100)
    arrived_at: datetime


class ColdChainInput(Frozen):
    """The cold-chain workflow's input; ``carry`` is what a run hands the next (continue-as-new)."""

    trip_id: Line = Field(max_length=100)
    order_id: Line = Field(max_length=80)
    shipment: int
    zones: tuple[ZoneProfile, ...]
    lines: tuple[ColdLine, ...]
    currency: Line = Field(max_length=3)
    buyer_org_id: Line = Field(max_length=40)
    supplier_org_id: Line = Field(max_length=40)
    carrier_org_id: Line | None = None
    trip_start: datetime
    # The route the loss rate is charted by: where the goods left from and where they went.
    route: Line = Field(default="", max_length=400)
    # The contract's tax over its pre-tax total: a claim credits the tax paid on the lost goods.
    tax_rate: Decimal = Decimal(0)
    decide_within: timedelta = timedelta(hours=48)
    # Events a run may reach before it continues as new (Temporal suggests it far later).
    history_limit: int = 2000
    carry: ColdChainCarry | None = None


class OpenAlert(Frozen):
    """An alert task still open when a run continued as new: the next run waits on it."""

    step: Line = Field(max_length=200)
    spec: TaskSpec


class ColdChainCarry(Frozen):
    """State a run hands the next: what was alerted, what is open, what has arrived."""

    alerted: tuple[Line, ...] = ()  # alert keys already raised (one task per excursion)
    open_alerts: tuple[OpenAlert, ...] = ()
    arrived_at: datetime | None = None
    # When the first run began watching: a logger's silence counts from here at the earliest,
    # since it could not upload before the pickup was reported.
    watching_since: datetime | None = None
    batches: int = 0
    runs: int = 1


class ReadingIn(Frozen):
    """One reading as a logger sends it."""

    at: datetime
    celsius: Decimal = Field(allow_inf_nan=False, max_digits=8, decimal_places=3)
    humidity: Decimal | None = Field(
        default=None, allow_inf_nan=False, max_digits=8, decimal_places=3
    )
    latitude: Decimal | None = Field(default=None, ge=-90, le=90, max_digits=9, decimal_places=6)
    longitude: Decimal | None = Field(
        default=None, ge=-180, le=180, max_digits=10, decimal_places=6
    )


class ReadingsBatch(Frozen):
    """What the API tells the workflow about a stored batch (never one signal per reading):
    its span, extremes, and whether any reading was in the warning band or outside the range."""

    logger_id: LoggerId
    count: int  # readings newly stored
    first_at: datetime
    last_at: datetime
    min_celsius: Decimal
    max_celsius: Decimal
    alarm: bool


class TripArrival(Frozen):
    at: datetime


class AssessInput(Frozen):
    trip_id: Line = Field(max_length=100)
    zones: tuple[ZoneProfile, ...]
    trip_start: datetime
    trip_end: datetime | None  # None while under way
    now: datetime


class RunView(Frozen):
    """A run outside the range (an excursion when ``is_excursion``), or inside the warning band."""

    logger_id: Line
    zone: Line
    side: Line  # above | below
    start: datetime
    end: datetime
    duration_s: int
    peak_celsius: Decimal
    ongoing: bool
    is_excursion: bool
    critical: bool


class LoggerFigures(Frozen):
    """One logger's trip figures (rules.cold_chain.Summary, flattened)."""

    logger_id: Line
    zone: Line
    readings: int
    min_celsius: Decimal | None
    max_celsius: Decimal | None
    mean_celsius: Decimal | None
    mkt_celsius: Decimal | None
    time_logged_s: int
    time_in_range_s: int
    time_out_of_range_s: int
    budget_left_s: int
    budget_exhausted: bool
    last_reading_at: datetime | None
    breach_at: datetime | None  # predicted from the recent trend, while under way
    breach_kind: Line = ""  # "range" | "budget" | ""
    verdict: Line
    reasons: tuple[Line, ...]
    silences: tuple[Line, ...]  # each "kind start-end", for the task and the report


class Assessment(Frozen):
    """The trip as of ``as_of``: every logger's figures, runs outside and warning runs."""

    trip_id: Line
    as_of: datetime
    arrived: bool
    loggers: tuple[LoggerFigures, ...]
    runs: tuple[RunView, ...]
    warnings: tuple[RunView, ...]
    verdict: Line  # the worst of the loggers' (no logger at all: quarantine, no evidence)
    reasons: tuple[Line, ...]


class SeriesBucket(Frozen):
    """A logger's readings in one time bucket: the downsampled series charts and reports use."""

    start: datetime
    readings: int
    min_celsius: Decimal
    max_celsius: Decimal
    mean_celsius: Decimal


class Disposition(StrEnum):
    ACCEPT = "accept"
    ACCEPT_WITH_CLAIM = "accept_with_claim"
    QUARANTINE = "quarantine"  # held for inspection; the inspection decides the rest
    REJECT = "reject"


class Liable(StrEnum):
    CARRIER = "carrier"
    SUPPLIER = "supplier"


class DecisionInput(Frozen):
    """The trip's final decision, recorded once: the claim becomes a credit note."""

    trip_id: Line = Field(max_length=100)
    order_id: Line = Field(max_length=80)
    shipment: int
    disposition: Disposition
    quarantined: bool  # went through quarantine before this decision
    automatic: bool  # no excursion: accepted without a person
    decided_by: Actor | None
    decided_at: datetime
    comment: Text = Field(default="", max_length=2000)
    lost: tuple[ShipmentLine, ...]  # quantities lost, per line (empty when nothing was lost)
    shipped: tuple[ShipmentLine, ...]
    claim: Money | None  # the lost goods' value; None without a claim
    liable: Liable | None
    liable_org_id: Line | None
    route: Line = Field(default="", max_length=400)
    carrier_org_id: Line | None = None
    gs1_disposition: Line = ""
    assessment: Assessment


class DecisionRecord(Frozen):
    credit_note_id: Line | None
    report: DocumentRef


class ColdChainOutcome(ColdChainResult):
    """What the order learns when the trip is decided."""

    disposition: Disposition


ColdChainInput.model_rebuild()
