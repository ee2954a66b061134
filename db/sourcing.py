"""Reading sourcing rows back as contracts: the RFQ, its active quotes and its comparison.

Shared by the ranking activity and the API, so the buyer's screen and the award task rank the
same way from the same rows.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Text as SqlText
from sqlalchemy import cast, select
from sqlalchemy.orm import Session

from contracts.accreditation import AccreditationStatus
from contracts.sourcing import (
    Comparison,
    Quote,
    QuoteStatus,
    QuoteTerms,
    RfqInput,
    RfqStatus,
    Standings,
    SupplierStanding,
)
from db.models import Organisation, QuoteRecord, Rfq, SupplierAccreditation
from rules.quote_pricing import RecordedQuote, from_bytes, kept_figures
from rules.quotes import compare_recorded


def rfq_row(
    rfq: RfqInput, workflow_id: str | None, *, status: RfqStatus, origin: str = "rfq"
) -> Rfq:
    """The RFQ's row as its process records it: sourced, or a catalogue purchase."""
    return Rfq(
        id=rfq.rfq_id,
        buyer_org_id=rfq.buyer_org_id,
        workflow_id=workflow_id,
        title=rfq.title,
        status=status.value,
        status_reason="",
        sealed=rfq.sealed,
        origin=origin,
        category=rfq.category,
        currency=rfq.currency,
        quote_deadline=rfq.quote_deadline,
        needed_by=rfq.needed_by,
        body=rfq.model_dump(mode="json"),
        created_by=rfq.created_by.user_id,
        created_at=rfq.created_at,
    )


def quote_values(quote: Quote, rfq: RfqInput | None) -> dict[str, Any]:
    """A quote revision's row as its process records it (a revision is a row of its own), with
    its figures priced against the RFQ's lines, which a comparison reads (rules.quote_pricing)."""
    return {
        "id": quote.quote_id,
        "rfq_id": quote.rfq_id,
        "supplier_org_id": quote.supplier_org_id,
        "revision": quote.revision,
        "status": QuoteStatus.ACTIVE.value,
        "terms": quote.terms.model_dump(mode="json"),
        "priced": kept_figures(quote.terms, rfq),
        "submitted_by": quote.submitted_by,
        "submitted_at": quote.submitted_at,
    }


def rfq_input(row: Rfq) -> RfqInput:
    return RfqInput.model_validate(row.body)


def rfq_input_if_valid(row: Rfq) -> RfqInput | None:
    """The RFQ's input, or None when its stored body no longer validates (a contract made
    stricter since it was stored)."""
    try:
        return rfq_input(row)
    except ValidationError:
        return None


def quote_of(row: QuoteRecord) -> Quote:
    return Quote(
        quote_id=row.id,
        rfq_id=row.rfq_id,
        supplier_org_id=row.supplier_org_id,
        revision=row.revision,
        terms=QuoteTerms.model_validate(row.terms),
        submitted_by=row.submitted_by,
        submitted_at=row.submitted_at,
    )


def quotes_named(session: Session, quote_ids: Sequence[str]) -> list[Quote]:
    """The revisions ``quote_ids``, in that order (a revision's row never changes). The terms
    come as JSON text and pydantic-core parses them (``model_validate_json``): a 200-line
    quote's terms decoded by psycopg2 into dicts and then validated took longer than parsing
    the text once, in Rust."""
    rows = session.execute(
        select(
            QuoteRecord.id,
            QuoteRecord.rfq_id,
            QuoteRecord.supplier_org_id,
            QuoteRecord.revision,
            cast(QuoteRecord.terms, SqlText),
            QuoteRecord.submitted_by,
            QuoteRecord.submitted_at,
        ).where(QuoteRecord.id.in_(quote_ids))
    )
    found = {
        quote_id: Quote(
            quote_id=quote_id,
            rfq_id=quote_rfq,
            supplier_org_id=supplier,
            revision=revision,
            terms=QuoteTerms.model_validate_json(terms),
            submitted_by=submitted_by,
            submitted_at=submitted_at,
        )
        for quote_id, quote_rfq, supplier, revision, terms, submitted_by, submitted_at in rows
    }
    return [found[quote_id] for quote_id in quote_ids]


def recorded_quotes(session: Session, rfq_id: str) -> list[RecordedQuote]:
    """The RFQ's active quotes by supplier as a comparison reads them: the figures kept when
    each was recorded, not their terms (``rules.quotes.compare_recorded``)."""
    rows = session.execute(
        select(
            QuoteRecord.id,
            QuoteRecord.supplier_org_id,
            QuoteRecord.revision,
            QuoteRecord.priced,
        )
        .where(QuoteRecord.rfq_id == rfq_id)
        .where(QuoteRecord.status == QuoteStatus.ACTIVE.value)
        .order_by(QuoteRecord.supplier_org_id, QuoteRecord.id)
    )
    return [
        RecordedQuote(quote_id, supplier, revision, from_bytes(priced))
        for quote_id, supplier, revision, priced in rows
    ]


def current_standings(session: Session, org_ids: Collection[str]) -> Standings:
    """Suppliers' standing now; one without an accreditation row is ineligible with score 0."""
    rows = {
        row.supplier_org_id: row
        for row in session.scalars(
            select(SupplierAccreditation).where(
                SupplierAccreditation.supplier_org_id.in_(list(org_ids))
            )
        )
    }
    standings = []
    for org_id in org_ids:
        row = rows.get(org_id)
        standings.append(
            SupplierStanding(
                org_id=org_id,
                eligible=row is not None and row.status == AccreditationStatus.ACCREDITED,
                score=row.score if row is not None else Decimal(0),
                status=row.status if row is not None else "not_accredited",
            )
        )
    return Standings(suppliers=tuple(standings))


def comparison_for(
    session: Session,
    row: Rfq,
    *,
    as_of: date,
    standings: Standings | None = None,
    recorded: Sequence[RecordedQuote] | None = None,
    top: int | None = None,
    exclude: Mapping[str, Collection[str]] | None = None,
    eligible_only: bool = False,
) -> Comparison:
    """The RFQ's comparison from its active quotes (``rules.quotes.compare``'s options), on the
    buyer's VAT basis as its tax profile says now; ``recorded``: its active quotes, already
    read. A quote's terms are read only when its kept figures cannot serve."""
    rfq = rfq_input(row)
    if recorded is None:
        recorded = recorded_quotes(session, row.id)
    if standings is None:
        standings = current_standings(session, sorted({q.supplier_org_id for q in recorded}))
    buyer = session.get(Organisation, row.buyer_org_id)
    return compare_recorded(
        rfq,
        recorded,
        load=lambda quote_ids: quotes_named(session, quote_ids),
        as_of=as_of,
        supplier_scores={s.org_id: s.score for s in standings.suppliers},
        ineligible={s.org_id for s in standings.suppliers if not s.eligible},
        top=top,
        exclude=exclude or {},
        eligible_only=eligible_only,
        deducts_input_vat=buyer is None or buyer.deducts_input_vat,
    )
