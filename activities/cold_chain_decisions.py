"""A cold trip's decision on record: the temperature report, the credit note, the trip closed.

Once per trip, however often it is retried. Each PDF is rendered once under its document id and
stored by SHA-256 (``activities.documents.issue_pdf``: a retry returns the stored one, never a
second render); the credit note's row, the trip's decided columns, the loggers' release and the
audit entries are then written in one transaction, each only if not there already. A trip
decided before returns what was recorded.

The report's chart reads each logger's series downsampled in the database as the API's chart
does (``db.cold_chain.chart_series``), at most 300 buckets a trip whatever its length: a 30-day
trip of a reading a minute is 43,200 readings a logger, more than a page can show.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.exceptions import ApplicationError

from activities.documents import document_ref, issue_pdf
from activities.invoices import invoice_id_for
from contracts.cold_chain import (
    ColdLine,
    DecisionInput,
    DecisionRecord,
    Liable,
    SeriesBucket,
    ZoneProfile,
)
from contracts.common import SYSTEM_ACTOR, DocumentRef
from contracts.fulfilment import ShipmentLine
from db.audit_log import audit_once
from db.cold_chain import (
    ColdTrip,
    CreditNote,
    LoggerAssignment,
    TripStatus,
    chart_series,
)
from db.models import Document, Order, Organisation
from db.session import transaction
from documents.temperature_report import (
    ReportParties,
    render_credit_note,
    render_temperature_report,
)
from storage.object_store import ObjectStore


def credit_note_id_for(order_id: str, shipment: int) -> str:
    return f"CN-{order_id.removeprefix('ord-')}-{shipment}"


@dataclass(frozen=True, slots=True)
class _Trip:
    """What the documents need, read once."""

    order_id: str
    buyer_org_id: str
    currency: str
    parties: ReportParties
    zones: tuple[ZoneProfile, ...]
    lines: tuple[ColdLine, ...]
    zone_of: dict[str, str]
    series: dict[str, list[SeriesBucket]]


def _name(session: Session, org_id: str | None) -> str | None:
    if org_id is None:
        return None
    org = session.get(Organisation, org_id)
    return org.legal_name if org is not None else org_id


def _read(session: Session, trip: ColdTrip, decision: DecisionInput) -> _Trip:
    order = session.get(Order, trip.order_id)
    if order is None:  # unreachable: the trip's foreign key
        raise ApplicationError(f"no order {trip.order_id}", type="UnknownOrder", non_retryable=True)
    carrier = decision.carrier_org_id or trip.carrier_org_id or order.carrier_org_id
    start = trip.started_at or trip.arrived_at or decision.decided_at
    end = trip.arrived_at or decision.decided_at
    zone_of, series = chart_series(session, trip.id, start, end)
    return _Trip(
        order_id=order.id,
        buyer_org_id=order.buyer_org_id,
        currency=order.currency,
        parties=ReportParties(
            buyer=_name(session, order.buyer_org_id) or order.buyer_org_id,
            supplier=_name(session, order.supplier_org_id) or order.supplier_org_id,
            carrier=_name(session, carrier),
        ),
        zones=tuple(ZoneProfile.model_validate(x) for x in trip.plan["zones"]),
        lines=tuple(ColdLine.model_validate(x) for x in trip.plan["lines"]),
        zone_of=zone_of,
        series=series,
    )


def _quantities(lines: tuple[ShipmentLine, ...]) -> dict[str, str]:
    return {line.line_id: str(line.quantity) for line in lines}


def _reason(decision: DecisionInput) -> str:
    said = decision.comment.strip()
    return f"{decision.disposition.value}: {said}" if said else decision.disposition.value


def _issue_credit_note(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    decision: DecisionInput,
    trip: _Trip,
    credit_note_id: str,
) -> DocumentRef:
    claim = decision.claim
    if claim is None:  # unreachable: called with a claim
        raise ValueError("a credit note needs a claim")
    by_id = {line.line_id: line for line in trip.lines}
    lost = [(by_id[x.line_id], x.quantity) for x in decision.lost if x.line_id in by_id]
    liable = f"{decision.liable.value}: {_liable_name(trip, decision)}" if decision.liable else ""
    return issue_pdf(
        sessions,
        store,
        document_id=f"CN-{decision.trip_id}:pdf",
        org_id=trip.buyer_org_id,
        kind="credit_note",
        filename=f"credit-note-{credit_note_id}.pdf",
        render=lambda: render_credit_note(
            credit_note_id=credit_note_id,
            order_id=decision.order_id,
            invoice_id=invoice_id_for(decision.order_id),
            buyer=trip.parties.buyer,
            supplier=trip.parties.supplier,
            lines=lost,
            amount=claim,
            reason=_reason(decision),
            liable=liable,
            issued_at=decision.decided_at,
        ),
    )


def _liable_name(trip: _Trip, decision: DecisionInput) -> str:
    if decision.liable is Liable.CARRIER:
        return trip.parties.carrier or decision.liable_org_id or ""
    return trip.parties.supplier


def decide(
    sessions: sessionmaker[Session], store: ObjectStore, decision: DecisionInput
) -> DecisionRecord:
    """Record the decision once (module docstring); unknown trips are not retried."""
    with sessions() as session:
        row = session.get(ColdTrip, decision.trip_id)
        if row is None:
            raise ApplicationError(
                f"no cold trip {decision.trip_id}", type="UnknownTrip", non_retryable=True
            )
        if row.status == TripStatus.DECIDED and row.report_document_id is not None:
            stored = session.get(Document, row.report_document_id)
            if stored is not None:
                return DecisionRecord(
                    credit_note_id=row.credit_note_id, report=document_ref(stored)
                )
        trip = _read(session, row, decision)
    credit_note_id = (
        credit_note_id_for(decision.order_id, decision.shipment) if decision.claim else None
    )
    note = (
        _issue_credit_note(sessions, store, decision, trip, credit_note_id)
        if credit_note_id is not None
        else None
    )
    report = issue_pdf(
        sessions,
        store,
        document_id=f"TR-{decision.trip_id}:pdf",
        org_id=trip.buyer_org_id,
        kind="temperature_report",
        filename=f"temperature-report-{decision.trip_id}.pdf",
        render=lambda: render_temperature_report(
            decision,
            zones=trip.zones,
            lines=trip.lines,
            series=trip.series,
            zone_of=trip.zone_of,
            parties=trip.parties,
            credit_note_id=credit_note_id,
            issued_at=decision.decided_at,
        ),
    )
    _close(sessions, decision, trip.currency, credit_note_id, note, report)
    return DecisionRecord(credit_note_id=credit_note_id, report=report)


def _close(
    sessions: sessionmaker[Session],
    decision: DecisionInput,
    currency: str,
    credit_note_id: str | None,
    note: DocumentRef | None,
    report: DocumentRef,
) -> None:
    """The rows, in one transaction: credit note, the trip decided, loggers freed, audit."""
    actor = decision.decided_by or SYSTEM_ACTOR
    claim = decision.claim
    with transaction(sessions) as session:
        if claim is not None and credit_note_id is not None and note is not None:
            if session.get(CreditNote, credit_note_id) is None:
                session.add(
                    CreditNote(
                        id=credit_note_id,
                        order_id=decision.order_id,
                        trip_id=decision.trip_id,
                        amount=claim.amount,
                        currency=claim.currency,
                        reason=_reason(decision),
                        liable_org_id=decision.liable_org_id,
                        document_id=note.document_id,
                        issued_at=decision.decided_at,
                    )
                )
            audit_once(
                session,
                actor,
                "credit_note.issued",
                credit_note_id,
                {
                    "trip_id": decision.trip_id,
                    "amount": str(claim.amount),
                    "currency": claim.currency,
                    "liable_org_id": decision.liable_org_id,
                    "sha256": note.sha256,
                },
            )
        session.execute(
            update(ColdTrip)
            .where(ColdTrip.id == decision.trip_id)
            .values(
                status=TripStatus.DECIDED,
                disposition=decision.disposition.value,
                lost=_quantities(decision.lost),
                shipped=_quantities(decision.shipped),
                # No claim means nothing was lost (the workflow claims every loss).
                loss_value=claim.amount if claim is not None else Decimal(0),
                currency=claim.currency if claim is not None else currency,
                liable=decision.liable.value if decision.liable is not None else None,
                liable_org_id=decision.liable_org_id,
                credit_note_id=credit_note_id,
                report_document_id=report.document_id,
                decided_by=actor.user_id,
                decided_at=decision.decided_at,
            )
        )
        session.execute(
            update(LoggerAssignment)
            .where(
                LoggerAssignment.trip_id == decision.trip_id,
                LoggerAssignment.released_at.is_(None),
            )
            .values(released_at=decision.decided_at)
        )
        audit_once(
            session,
            actor,
            "cold_chain.decided",
            decision.trip_id,
            {
                "disposition": decision.disposition.value,
                "automatic": decision.automatic,
                "quarantined": decision.quarantined,
                "gs1_disposition": decision.gs1_disposition,
                "lost": _quantities(decision.lost),
                "credit_note_id": credit_note_id,
                "report_sha256": report.sha256,
            },
        )
