"""E-contracts: list and read them, download the PDF; who may see one.

Parties are the members of the buyer and supplier organisations (buyer, finance and supplier
roles) and platform staff; anyone else, regulators included, gets 404 as for a missing contract.
Signing is in ``api.routes.contract_signing``, verification in ``api.routes.contract_verification``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep, SessionDep, is_operator, not_found
from api.downloads import PDF_DOCUMENT, audited_download
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, descending, paged
from api.params import IdFilter, IdPath
from api.routes.document_access import readable_document
from contracts.common import Actor, Money, Role
from contracts.sourcing import (
    ApprovalRecord,
    ContractStatus,
    ContractTerms,
    FxRate,
)
from db.models import Contract, ContractSignature

router = APIRouter(tags=["e-contracts"])

# Who of a party organisation may read its contracts: those who award, approve and sign.
PARTY_ROLES = (Role.BUYER, Role.FINANCE, Role.SUPPLIER)
NEWEST_FIRST = Keyset("contracts", (descending(Contract.created_at), ascending(Contract.id)))


class DocumentLink(BaseModel):
    document_id: str
    sha256: str
    url: str


class SignatureView(BaseModel):
    """A signature as stored: with ``statement``, ``value`` and the key from
    ``GET /organisations/{org_id}/signing-keys`` anyone can verify it offline."""

    signer_org_id: str
    signer_user_id: str
    signer_credit_code: str
    signed_at: datetime
    key_id: str
    algorithm: str
    document_sha256: str
    statement: str
    value: str


class ContractSummary(BaseModel):
    contract_id: str
    rfq_id: str
    buyer_org_id: str
    supplier_org_id: str
    status: ContractStatus
    total: Money
    url: str


class ContractDetail(ContractSummary):
    status_reason: str
    terms: ContractTerms
    approvals: list[ApprovalRecord]
    fx_rate: FxRate | None
    amount_in_chain_currency: Money | None
    document: DocumentLink | None
    sign_by: datetime | None
    signatures: list[SignatureView]
    executed_at: datetime | None
    fulfilment_status: str | None = Field(
        description="'awaiting_fulfilment' once executed; then the status of the order the "
        "contract became (awaiting_confirmation, ..., completed), order id 'ord-<contract_id>'."
    )


def visible_contract(session: Session, actor: Actor, contract_id: str) -> Contract:
    row = session.get(Contract, contract_id)
    party = row is not None and actor.org_id in (row.buyer_org_id, row.supplier_org_id)
    if row is None or not (is_operator(actor) or (party and actor.has_any(*PARTY_ROLES))):
        raise not_found("contract")
    return row


def visible_contracts(actor: Actor) -> list[ColumnElement[bool]] | None:
    """The contract conditions the caller sees; None means every contract (staff)."""
    if is_operator(actor):
        return None
    sides: list[ColumnElement[bool]] = []
    if actor.has_any(Role.BUYER, Role.FINANCE):
        sides.append(Contract.buyer_org_id == actor.org_id)
    if actor.has_any(Role.SUPPLIER):
        sides.append(Contract.supplier_org_id == actor.org_id)
    if not sides:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="requires the buyer, finance or supplier role"
        )
    return sides


def _summary(row: Contract) -> dict[str, Any]:
    return {
        "contract_id": row.id,
        "rfq_id": row.rfq_id,
        "buyer_org_id": row.buyer_org_id,
        "supplier_org_id": row.supplier_org_id,
        "status": ContractStatus(row.status),
        "total": Money(amount=row.total_amount, currency=row.currency),
        "url": f"/contracts/{row.id}",
    }


def signatures(session: Session, contract_id: str) -> list[ContractSignature]:
    return list(
        session.scalars(
            select(ContractSignature)
            .where(ContractSignature.contract_id == contract_id)
            .order_by(ContractSignature.signed_at)
        )
    )


@router.get("/contracts", responses=NEXT_PAGE_HEADERS)
def list_contracts(
    actor: CurrentActor,
    session: SessionDep,
    page: Annotated[Page, paged(NEWEST_FIRST)],
    rfq_id: IdFilter = None,
    status_filter: Annotated[ContractStatus | None, Query(alias="status")] = None,
) -> list[ContractSummary]:
    """Your organisation's contracts (as buyer or as supplier); platform staff see all. Newest
    first, a page at a time (the ``Link`` header's next)."""
    query = listed_contracts(actor, rfq_id, status_filter)
    return [ContractSummary(**_summary(row)) for row in page.rows(session, query)]


def listed_contracts(
    actor: Actor, rfq_id: str | None, of_status: ContractStatus | None
) -> Select[tuple[Contract]]:
    """The list's query: the caller's contracts (``visible_contracts``), of an RFQ or a status.
    Migration 0036's indexes serve it newest first (each side's, staff's by status or all); an
    RFQ's few contracts are found by their own index."""
    query = select(Contract)
    sides = visible_contracts(actor)
    if sides is not None:
        query = query.where(or_(*sides))
    if rfq_id is not None:
        query = query.where(Contract.rfq_id == rfq_id)
    if of_status is not None:
        query = query.where(Contract.status == of_status.value)
    return query


@router.get("/contracts/{contract_id}")
def get_contract(contract_id: IdPath, actor: CurrentActor, session: SessionDep) -> ContractDetail:
    """Status, terms, approvals, the rate used, the document's hash and every signature."""
    row = visible_contract(session, actor, contract_id)
    amount = (
        Money(amount=row.amount_in_chain_currency, currency=row.chain_currency)
        if row.amount_in_chain_currency is not None and row.chain_currency is not None
        else None
    )
    document = (
        DocumentLink(
            document_id=row.document_id,
            sha256=row.document_sha256,
            url=f"/contracts/{row.id}/document",
        )
        if row.document_id is not None and row.document_sha256 is not None
        else None
    )
    return ContractDetail(
        **_summary(row),
        status_reason=row.status_reason,
        terms=ContractTerms.model_validate(row.terms),
        approvals=[ApprovalRecord.model_validate(a) for a in row.approvals],
        fx_rate=FxRate.model_validate(row.fx_rate) if row.fx_rate is not None else None,
        amount_in_chain_currency=amount,
        document=document,
        sign_by=row.sign_by,
        signatures=[
            SignatureView(
                signer_org_id=s.signer_org_id,
                signer_user_id=s.signer_user_id,
                signer_credit_code=s.signer_credit_code,
                signed_at=s.signed_at,
                key_id=s.key_id,
                algorithm=s.algorithm,
                document_sha256=s.document_sha256,
                statement=s.statement,
                value=s.value,
            )
            for s in signatures(session, row.id)
        ],
        executed_at=row.executed_at,
        fulfilment_status=row.fulfilment_status,
    )


@router.get("/contracts/{contract_id}/document", response_class=Response, responses=PDF_DOCUMENT)
def download_contract(
    contract_id: IdPath, actor: CurrentActor, platform: PlatformDep, session: SessionDep
) -> Response:
    """The contract PDF, after checking it still hashes to the recorded SHA-256; audited."""
    row = visible_contract(session, actor, contract_id)
    if row.document_id is None:
        raise not_found("contract document")
    document = readable_document(session, actor, row.document_id)
    return audited_download(
        platform.store,
        session,
        actor,
        document,
        filename=f"contract-{row.id}.pdf",
        detail={"contract_id": row.id},
        hint="GET the verification for details",
    )
