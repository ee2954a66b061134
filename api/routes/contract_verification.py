"""Verifying an e-contract: the stored PDF or a copy you hold against every signature, and the
organisations' public keys to verify them offline."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep, SessionDep
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, paged
from api.params import IdPath
from api.platform import Platform
from api.routes.e_contracts import signatures, visible_contract
from api.uploads import check_upload
from contracts.sourcing import ContractTerms, Party, Signature
from db.models import Contract, SigningKey
from security.signatures import verify
from storage.object_store import ContentIntegrityError, ObjectNotFound, get_verified

router = APIRouter(tags=["e-contracts"])
OLDEST_FIRST = Keyset("signing_keys", (ascending(SigningKey.created_at), ascending(SigningKey.id)))


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


@router.get("/contracts/{contract_id}/verification")
def verify_stored(
    contract_id: IdPath, actor: CurrentActor, platform: PlatformDep, session: SessionDep
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
    contract_id: IdPath,
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
    for stored in signatures(session, row.id):
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


@router.get("/organisations/{org_id}/signing-keys", responses=NEXT_PAGE_HEADERS)
def signing_keys(
    org_id: IdPath,
    actor: CurrentActor,
    session: SessionDep,
    page: Annotated[Page, paged(OLDEST_FIRST)],
) -> list[PublicKey]:
    """An organisation's public signing keys, oldest first, so anyone can verify its signatures
    offline; a page at a time (the ``Link`` header's next)."""
    rows = page.rows(session, select(SigningKey).where(SigningKey.org_id == org_id))
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
