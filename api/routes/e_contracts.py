"""E-contracts: read them, download the PDF, sign or decline, verify, and the public keys.

Parties are the members of the buyer and supplier organisations (buyer, finance and supplier
roles) and platform staff; anyone else, regulators included, gets 404 as for a missing contract.
Signing is the ``decide_task`` update on the contract's workflow, so its validator refuses a
hash other than the stored PDF's; the workflow makes the Ed25519 signature.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep, SessionDep, is_operator, not_found
from api.downloads import PDF_DOCUMENT, audited_download
from api.idempotency import update_id
from api.platform import Platform
from api.routes.document_access import readable_document
from api.uploads import check_upload
from contracts.common import Actor, Money, Role
from contracts.sourcing import (
    ApprovalRecord,
    ContractStatus,
    ContractTerms,
    FxRate,
    Party,
    Signature,
    SignDecision,
)
from contracts.tasks import DecideTaskInput, TaskAnswer
from db.models import Contract, ContractSignature, HumanTask, SigningKey
from db.tasks import open_task
from security.signatures import verify
from storage.object_store import ContentIntegrityError, ObjectNotFound, get_verified
from workflows.contract import SIGNATURE_TASK

router = APIRouter(tags=["e-contracts"])

# Who of a party organisation may read its contracts: those who award, approve and sign.
PARTY_ROLES = (Role.BUYER, Role.FINANCE, Role.SUPPLIER)


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


class SignRequest(SignDecision):
    """The SHA-256 of the PDF you read (``GET /contracts/{id}/document``)."""


class DeclineSignatureRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class SignatureCheckView(BaseModel):
    signer_org_id: str
    signer_user_id: str
    signed_at: datetime
    key_id: str
    document_sha256: str
    valid: bool
    reasons: list[str]


class Verification(BaseModel):
    """``checked_sha256`` is the hash of the copy checked (the stored one, or your upload)."""

    contract_id: str
    document_sha256: str | None
    checked: str
    checked_sha256: str | None
    document_intact: bool
    signatures: list[SignatureCheckView]
    all_parties_signed: bool
    valid: bool
    reasons: list[str]


class PublicKey(BaseModel):
    key_id: str
    org_id: str
    algorithm: str
    public_key: str
    created_at: datetime
    retired_at: datetime | None


def visible_contract(session: Session, actor: Actor, contract_id: str) -> Contract:
    row = session.get(Contract, contract_id)
    party = row is not None and actor.org_id in (row.buyer_org_id, row.supplier_org_id)
    if row is None or not (is_operator(actor) or (party and actor.has_any(*PARTY_ROLES))):
        raise not_found("contract")
    return row


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


def _signatures(session: Session, contract_id: str) -> list[ContractSignature]:
    return list(
        session.scalars(
            select(ContractSignature)
            .where(ContractSignature.contract_id == contract_id)
            .order_by(ContractSignature.signed_at)
        )
    )


@router.get("/contracts")
def list_contracts(
    actor: CurrentActor,
    session: SessionDep,
    rfq_id: str | None = None,
    status_filter: Annotated[ContractStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ContractSummary]:
    """Your organisation's contracts (as buyer or as supplier); platform staff see all."""
    query = select(Contract).order_by(Contract.created_at.desc(), Contract.id).limit(limit)
    if not is_operator(actor):
        sides = []
        if actor.has_any(Role.BUYER, Role.FINANCE):
            sides.append(Contract.buyer_org_id == actor.org_id)
        if actor.has_any(Role.SUPPLIER):
            sides.append(Contract.supplier_org_id == actor.org_id)
        if not sides:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail="requires the buyer, finance or supplier role"
            )
        query = query.where(or_(*sides))
    if rfq_id is not None:
        query = query.where(Contract.rfq_id == rfq_id)
    if status_filter is not None:
        query = query.where(Contract.status == status_filter.value)
    return [ContractSummary(**_summary(row)) for row in session.scalars(query)]


@router.get("/contracts/{contract_id}")
def get_contract(contract_id: str, actor: CurrentActor, session: SessionDep) -> ContractDetail:
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
            for s in _signatures(session, row.id)
        ],
        executed_at=row.executed_at,
        fulfilment_status=row.fulfilment_status,
    )


@router.get("/contracts/{contract_id}/document", response_class=Response, responses=PDF_DOCUMENT)
def download_contract(
    contract_id: str, actor: CurrentActor, platform: PlatformDep, session: SessionDep
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


# -- signing ------------------------------------------------------------------------------


def _signature_task(platform: Platform, actor: Actor, contract_id: str) -> HumanTask:
    """The caller's organisation's open signature task; its party role is required."""
    with platform.sessions() as session:
        row = visible_contract(session, actor, contract_id)
        if actor.org_id not in (row.buyer_org_id, row.supplier_org_id):
            raise not_found("contract")
        role = Role.BUYER if actor.org_id == row.buyer_org_id else Role.SUPPLIER
        if not actor.has_any(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"signing for your organisation needs the {role} role",
            )
        task = open_task(session, subject_id=contract_id, kind=SIGNATURE_TASK, org_id=actor.org_id)
        if task is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"no signature is awaited from your organisation: the contract is "
                f"{row.status}",
            )
        return task


async def _decide_signature(
    platform: Platform, request: Request, actor: Actor, contract_id: str, **decision: Any
) -> TaskAnswer:
    task = await run_in_threadpool(_signature_task, platform, actor, contract_id)
    key = request.headers.get("idempotency-key")
    answer: TaskAnswer = await platform.temporal.get_workflow_handle(
        task.workflow_id
    ).execute_update(
        "decide_task",
        DecideTaskInput(task_id=task.id, actor=actor, **decision),
        result_type=TaskAnswer,
        id=update_id(actor.user_id, key) if key else None,
    )
    return answer


@router.post("/contracts/{contract_id}/signatures")
async def sign_contract(
    contract_id: str,
    body: SignRequest,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
) -> TaskAnswer:
    """Sign for your organisation the PDF whose SHA-256 you give; another hash is refused."""
    return await _decide_signature(
        platform,
        request,
        actor,
        contract_id,
        outcome="sign",
        choices={"document_sha256": body.document_sha256},
    )


@router.post("/contracts/{contract_id}/decline-signature")
async def decline_signature(
    contract_id: str,
    body: DeclineSignatureRequest,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
) -> TaskAnswer:
    """Refuse to sign, with the reason: the contract lapses and its lines go back to award."""
    return await _decide_signature(
        platform, request, actor, contract_id, outcome="decline", comment=body.reason
    )


# -- verification -------------------------------------------------------------------------


@router.get("/contracts/{contract_id}/verification")
def verify_stored(
    contract_id: str, actor: CurrentActor, platform: PlatformDep, session: SessionDep
) -> Verification:
    """Re-hash the stored PDF and check every signature against it and its public key."""
    row = visible_contract(session, actor, contract_id)
    checked: str | None = None
    reasons: list[str] = []
    if row.document_sha256 is None:
        reasons.append("the contract has no document yet")
    else:
        try:
            checked = _stored_hash(platform, row.document_sha256)
        except ObjectNotFound:
            reasons.append("the stored document is missing")
    return _verification(session, row, checked, "stored document", reasons)


@router.post("/contracts/{contract_id}/verification")
async def verify_copy(
    contract_id: str,
    actor: CurrentActor,
    platform: PlatformDep,
    file: Annotated[UploadFile, File(description="a copy of the contract PDF to check")],
) -> Verification:
    """Check a copy of the PDF you hold: its hash against every signature."""
    upload = await check_upload(file, field="file", max_bytes=platform.settings.max_upload_bytes)
    checked = hashlib.sha256(upload.data).hexdigest()

    def check() -> Verification:
        with platform.sessions() as session:
            row = visible_contract(session, actor, contract_id)
            return _verification(session, row, checked, "uploaded copy", [])

    return await run_in_threadpool(check)


def _stored_hash(platform: Platform, sha256: str) -> str:
    """The hash of the bytes actually stored under ``sha256``'s key (they may differ)."""
    try:
        data = get_verified(platform.store, sha256)
    except ContentIntegrityError as changed:
        return changed.actual
    return hashlib.sha256(data).hexdigest()


def _verification(
    session: Session, row: Contract, checked: str | None, what: str, reasons: list[str]
) -> Verification:
    terms = ContractTerms.model_validate(row.terms)
    parties = {terms.buyer.org_id: terms.buyer, terms.supplier.org_id: terms.supplier}
    intact = checked is not None and checked == row.document_sha256
    if checked is not None and not intact:
        reasons.append(f"the {what} hashes to {checked}, not the contract's {row.document_sha256}")
    views: list[SignatureCheckView] = []
    for stored in _signatures(session, row.id):
        signature = Signature(
            contract_id=stored.contract_id,
            document_sha256=stored.document_sha256,
            signer_user_id=stored.signer_user_id,
            signer_org_id=stored.signer_org_id,
            signer_credit_code=stored.signer_credit_code,
            signed_at=stored.signed_at,
            key_id=stored.key_id,
            algorithm=stored.algorithm,
            value=stored.value,
            statement=stored.statement,
        )
        views.append(_check(session, signature, parties, checked, row.id))
    signed = {v.signer_org_id for v in views}
    all_signed = set(parties) <= signed
    if not all_signed:
        reasons.append("not every party has signed")
    valid = intact and all_signed and all(v.valid for v in views)
    return Verification(
        contract_id=row.id,
        document_sha256=row.document_sha256,
        checked=what,
        checked_sha256=checked,
        document_intact=intact,
        signatures=views,
        all_parties_signed=all_signed,
        valid=valid,
        reasons=reasons + [r for v in views for r in v.reasons],
    )


def _check(
    session: Session,
    signature: Signature,
    parties: dict[str, Party],
    checked: str | None,
    contract_id: str,
) -> SignatureCheckView:
    reasons: list[str] = []
    key = session.get(SigningKey, signature.key_id)
    if key is None or key.org_id != signature.signer_org_id:
        reasons.append(f"key {signature.key_id} is not a published key of the signer")
    else:
        outcome = verify(signature, key.public_key, document_sha256=checked)
        reasons.extend(outcome.reasons)
    party = parties.get(signature.signer_org_id)
    if party is None or party.credit_code != signature.signer_credit_code:
        reasons.append("the signer is not a party to this contract")
    if signature.contract_id != contract_id:
        reasons.append("the signature is for another contract")
    if checked is None:
        reasons.append("no document to check the signed hash against")
    return SignatureCheckView(
        signer_org_id=signature.signer_org_id,
        signer_user_id=signature.signer_user_id,
        signed_at=signature.signed_at,
        key_id=signature.key_id,
        document_sha256=signature.document_sha256,
        valid=not reasons,
        reasons=reasons,
    )


@router.get("/organisations/{org_id}/signing-keys")
def signing_keys(org_id: str, actor: CurrentActor, session: SessionDep) -> list[PublicKey]:
    """An organisation's public signing keys, so anyone can verify its signatures offline."""
    rows = session.scalars(
        select(SigningKey).where(SigningKey.org_id == org_id).order_by(SigningKey.created_at)
    )
    return [
        PublicKey(
            key_id=k.id,
            org_id=k.org_id,
            algorithm=k.algorithm,
            public_key=k.public_key,
            created_at=k.created_at,
            retired_at=k.retired_at,
        )
        for k in rows
    ]
