"""Following accreditation: applications with their checks and live status, and a supplier's
standing (for itself, for buyers sourcing from it and for platform staff)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from temporalio.exceptions import TemporalError

from api.deps import (
    CurrentActor,
    PlatformDep,
    SessionDep,
    is_operator,
    not_found,
    read_then_release,
)
from api.pagination import (
    NEXT_PAGE_HEADERS,
    Keyset,
    Listing,
    Page,
    ascending,
    descending,
    loaded,
    paged,
)
from api.params import IdPath
from contracts.accreditation import AccreditationStatus, AccreditationView
from contracts.common import Actor, OrgKind, Role
from db.models import (
    AccreditationApplication,
    ApplicationCertificate,
    FinancialStatement,
    Organisation,
    SupplierAccreditation,
)

router = APIRouter(prefix="/accreditation", tags=["accreditation"])
LATEST_FIRST = Keyset(
    "applications",
    (descending(AccreditationApplication.submitted_at), ascending(AccreditationApplication.id)),
)


class CertificateView(BaseModel):
    standard: str
    number: str
    certification_body: str
    scope: str
    issue_date: date
    expiry_date: date
    document_id: str | None
    passed: bool | None
    reasons: list[str]


class ApplicationView(BaseModel):
    application_id: str
    supplier_org_id: str
    legal_name: str
    credit_code: str
    status: str
    reasons: list[str]
    risk_band: str | None
    submitted_at: datetime
    decided_at: datetime | None
    licence_document_id: str
    certificates: list[CertificateView]
    financial_years: dict[int, dict[str, str]]
    report: dict[str, Any] | None
    live: AccreditationView | None


VIEWS = Listing(ApplicationView)


class StandingView(BaseModel):
    supplier_org_id: str
    status: str
    tier: str
    score: Decimal
    expires_on: date
    certificate_document_id: str
    eligible_for_sourcing: bool


def visible_application(
    session: Session, actor: Actor, application_id: str
) -> AccreditationApplication:
    """An application its supplier or platform staff may read; else 404 (the API's and the
    workbench's rule)."""
    row = session.get(AccreditationApplication, application_id)
    if row is None or not sees_applications_of(actor, row.supplier_org_id):
        raise not_found("application")
    return row


def sees_applications_of(actor: Actor, org_id: str) -> bool:
    """An organisation's applications (and its accreditation process) are its own and platform
    staff's."""
    return org_id == actor.org_id or is_operator(actor)


@router.get("/applications", response_model=VIEWS.response_model, responses=NEXT_PAGE_HEADERS)
def list_applications(
    actor: CurrentActor,
    session: SessionDep,
    page: Annotated[Page, paged(LATEST_FIRST)],
    status_filter: Annotated[AccreditationStatus | None, Query()] = None,
) -> Response:
    """The caller's own applications (suppliers) or all of them (compliance and ops); latest
    first, a page at a time (the ``Link`` header's next)."""
    query = applications_query(actor, status_filter)
    views = _application_views(session, page.rows(session, query))
    return VIEWS.answer(page, views, session=session)


def applications_query(
    actor: Actor, status: AccreditationStatus | None
) -> Select[tuple[AccreditationApplication]]:
    """The applications the caller lists: its own (suppliers) or all (staff), of one status."""
    query = select(AccreditationApplication)
    if not is_operator(actor):
        query = query.where(AccreditationApplication.supplier_org_id == actor.org_id)
    if status is not None:
        query = query.where(AccreditationApplication.status == status.value)
    return query


@router.get("/applications/{application_id}")
async def get_application(
    application_id: IdPath, actor: CurrentActor, session: SessionDep, platform: PlatformDep
) -> ApplicationView:
    """One application with its checks, reasons and the workflow's live status."""

    def read(reading: Session) -> tuple[str, dict[str, Any]]:
        row = visible_application(reading, actor, application_id)
        return row.workflow_id, _application_views(reading, [row])[0]

    # Read on a thread, the connection given back before the process is asked.
    workflow_id, view = await read_then_release(session, read)
    try:
        live = await platform.temporal.get_workflow_handle(workflow_id).query(
            "get_status", result_type=AccreditationView, rpc_timeout=timedelta(seconds=5)
        )
    except TemporalError:
        live = None  # the live view is a bonus: the recorded row still answers
    if live is not None and live.application_id == application_id:  # not a later application
        view |= {"status": live.status.value, "reasons": list(live.reasons), "live": live}
    return ApplicationView.model_validate(view)


def _application_views(
    session: Session, rows: Sequence[AccreditationApplication]
) -> list[dict[str, Any]]:
    """The applications' ``ApplicationView`` fields with their certificates and financial
    years, read in two queries whatever the number of rows (one a row each made a page of 200
    cost 401 queries)."""
    ids = [row.id for row in rows]
    certificates: dict[str, list[ApplicationCertificate]] = defaultdict(list)
    statements: dict[str, list[FinancialStatement]] = defaultdict(list)
    if ids:
        for c in session.scalars(
            select(ApplicationCertificate)
            .where(ApplicationCertificate.application_id.in_(ids))
            .order_by(ApplicationCertificate.application_id, ApplicationCertificate.position)
        ):
            certificates[c.application_id].append(c)
        for s in session.scalars(
            select(FinancialStatement).where(FinancialStatement.application_id.in_(ids))
        ):
            statements[s.application_id].append(s)
    return [_application_view(row, certificates[row.id], statements[row.id]) for row in rows]


def _application_view(
    row: AccreditationApplication,
    certificates: Sequence[ApplicationCertificate],
    statements: Sequence[FinancialStatement],
) -> dict[str, Any]:
    """As recorded; a live status replaces ``status``, ``reasons`` and ``live``."""
    # The view's other fields are the row's columns by name (it ignores the rest).
    values = loaded(row)
    return {
        **values,
        "application_id": values["id"],
        "certificates": [_certificate(loaded(c)) for c in certificates],
        "financial_years": {s.year: s.figures | {"currency": s.currency} for s in statements},
        "live": None,
    }


def _certificate(values: Mapping[str, Any]) -> dict[str, Any]:
    return {**values, "reasons": values["check_reasons"]}


def sees_every_standing(actor: Actor) -> bool:
    """Platform staff and buyers (who source from suppliers) read any standing; others their
    own organisation's alone."""
    return is_operator(actor) or actor.has_any(Role.BUYER)


@router.get("/suppliers/{org_id}")
def get_standing(org_id: IdPath, actor: CurrentActor, session: SessionDep) -> StandingView:
    """A supplier's standing: for the supplier, buyers (who source from it) and platform staff."""
    row = session.get(SupplierAccreditation, org_id)
    if row is None or not (actor.org_id == org_id or sees_every_standing(actor)):
        raise not_found("accreditation")
    org = session.get(Organisation, org_id)
    # A carrier's standing is its accreditation as a carrier: it does not make it a supplier.
    supplier = org is not None and org.kind == OrgKind.SUPPLIER.value
    return StandingView(
        supplier_org_id=row.supplier_org_id,
        status=row.status,
        tier=row.tier,
        score=row.score,
        expires_on=row.expires_on,
        certificate_document_id=row.certificate_document_id,
        eligible_for_sourcing=supplier
        and row.status == "accredited"
        and row.expires_on > date.today(),
    )
