"""An event's fields, as the catalogue (``rules.notification_rules.EVENT_TYPES``) names them,
read from the database when the event is evaluated: an order's amount and parties, a loan's
principal, the days until a certificate expires, an import's outcome and counts. A subject that
is gone yields no fields (every condition on them is then false)."""

from __future__ import annotations

from datetime import timedelta, timezone
from decimal import Decimal
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.common import Money
from db.catalogue_imports import CatalogueImport
from db.finance import Loan
from db.models import (
    AccreditationApplication,
    ApplicationCertificate,
    Contract,
    Order,
    Organisation,
)
from db.notification_rules import ProcessEvent
from rules.notification_rules import Fact

# Certificate days are counted in China, where the platform's days begin.
CHINA = timezone(timedelta(hours=8), "CST")


# Subjects with an amount and two parties: the model, and the fact and column of its amount.
_PRICED: dict[str, tuple[type[Order] | type[Contract] | type[Loan], str, str]] = {
    "order": (Order, "amount", "total_amount"),
    "contract": (Contract, "amount", "total_amount"),
    "loan": (Loan, "principal", "amount"),
}


def event_facts(session: Session, event: ProcessEvent) -> dict[str, Fact]:
    facts: dict[str, Fact] = {"message": event.message}
    priced = _PRICED.get(event.subject_type)
    if priced is not None:
        model, fact, column = priced
        row = cast(Order | Contract | Loan | None, session.get(model, event.subject_id))
        if row is not None:
            facts[fact] = Money(amount=getattr(row, column), currency=row.currency)
            facts |= _parties(session, row.buyer_org_id, row.supplier_org_id)
    elif event.subject_type == "catalogue_import":
        imported = session.get(CatalogueImport, event.subject_id)
        if imported is not None:
            facts["status"] = imported.status
            facts["rows_written"] = Decimal(imported.rows_written)
            facts["error_count"] = Decimal(imported.error_count)
    elif event.subject_type == "accreditation_application":
        application = session.get(AccreditationApplication, event.subject_id)
        if application is not None:
            facts["supplier"] = _name(session, application.supplier_org_id)
            facts["days_until_expiry"] = _days_until_expiry(session, event)
    return facts


def _parties(session: Session, buyer_org_id: str, supplier_org_id: str) -> dict[str, Fact]:
    return {
        "buyer": _name(session, buyer_org_id),
        "supplier": _name(session, supplier_org_id),
    }


def _name(session: Session, org_id: str) -> str | None:
    """Both names, so a condition may name the organisation in Chinese or in English."""
    org = session.get(Organisation, org_id)
    return None if org is None else f"{org.legal_name} / {org.name_en}"


def _days_until_expiry(session: Session, event: ProcessEvent) -> int | None:
    """From the event's day to the application's next certificate expiry on or after it."""
    day = event.occurred_at.astimezone(CHINA).date()
    expiry = session.scalar(
        select(func.min(ApplicationCertificate.expiry_date)).where(
            ApplicationCertificate.application_id == event.subject_id,
            ApplicationCertificate.expiry_date >= day,
        )
    )
    return None if expiry is None else (expiry - day).days
