"""E-contract documents and signatures: the PDF rendered and stored once, each party's signature
made with its organisation's key and stored once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.documents import issue_pdf
from contracts.common import DocumentRef
from contracts.sourcing import ContractTerms, Signature, SignContractInput
from db.audit_log import append_audit
from db.models import Contract, ContractSignature, Organisation, SigningKey
from db.session import transaction
from documents.e_contract import render_contract_pdf
from security.signatures import generate_key_pair, sign
from storage.object_store import ObjectStore

PDF = "application/pdf"


def contract_document_id(contract_id: str) -> str:
    return f"{contract_id}:contract"


class ContractDocuments:
    def __init__(self, sessions: sessionmaker[Session], store: ObjectStore) -> None:
        self._sessions = sessions
        self._store = store

    @activity.defn(name="render_contract")
    def render_contract(self, terms: ContractTerms) -> DocumentRef:
        """Render and store the PDF once; a retry returns the document already stored, so the
        hash the parties sign never changes under them."""
        return issue_pdf(
            self._sessions,
            self._store,
            document_id=contract_document_id(terms.contract_id),
            org_id=terms.buyer.org_id,
            kind="e_contract",
            filename=f"contract-{terms.contract_id}.pdf",
            render=lambda: render_contract_pdf(terms),
        )

    @activity.defn(name="sign_contract")
    def sign_contract(self, request: SignContractInput) -> Signature:
        """Sign the document's hash with the signer organisation's key; once per party."""
        signer = request.signer
        with transaction(self._sessions) as session:
            contract = session.get(Contract, request.contract_id, with_for_update=True)
            if contract is None or contract.document_sha256 != request.document.sha256:
                raise ApplicationError(
                    f"contract {request.contract_id} has no document {request.document.sha256}",
                    type="InvalidRecord",
                    non_retryable=True,
                )
            existing = session.scalars(
                select(ContractSignature)
                .where(ContractSignature.contract_id == request.contract_id)
                .where(ContractSignature.signer_org_id == signer.org_id)
            ).first()
            if existing is not None:
                return signature_of(existing)
            org = session.get(Organisation, signer.org_id)
            if org is None:
                raise ApplicationError(
                    f"no organisation {signer.org_id}", type="InvalidRecord", non_retryable=True
                )
            key = signing_key(session, signer.org_id)
            signature = sign(
                key.private_key,
                contract_id=request.contract_id,
                document_sha256=request.document.sha256,
                signer_user_id=signer.user_id,
                signer_org_id=signer.org_id,
                signer_credit_code=org.credit_code,
                signed_at=request.signed_at,
                key_id=key.id,
            )
            session.add(
                ContractSignature(
                    contract_id=request.contract_id,
                    signer_org_id=signer.org_id,
                    signer_user_id=signer.user_id,
                    signer_credit_code=org.credit_code,
                    signed_at=request.signed_at,
                    key_id=key.id,
                    algorithm=signature.algorithm,
                    document_sha256=signature.document_sha256,
                    statement=signature.statement,
                    value=signature.value,
                )
            )
            append_audit(
                session,
                actor=signer,
                action="contract.signed",
                target_type="contract",
                target_id=request.contract_id,
                detail={"document_sha256": request.document.sha256, "key_id": key.id},
                dedup_key=f"contract.signed:{request.contract_id}:{signer.org_id}",
            )
            return signature


def signing_key(session: Session, org_id: str) -> SigningKey:
    """The organisation's active key, made on first use. The key id is fixed per organisation
    and generation, so two first signatures at once end with one key."""
    key_id = f"sk_{org_id}_1"
    row = session.get(SigningKey, key_id)
    if row is not None:
        return row
    pair = generate_key_pair(key_id)
    session.execute(
        insert(SigningKey)
        .values(
            id=key_id,
            org_id=org_id,
            algorithm="Ed25519",
            public_key=pair.public_key_b64,
            private_key=pair.private_key_b64,
        )
        .on_conflict_do_nothing(index_elements=[SigningKey.id])
    )
    row = session.get(SigningKey, key_id, populate_existing=True)
    assert row is not None
    return row


def signature_of(row: ContractSignature) -> Signature:
    return Signature(
        contract_id=row.contract_id,
        document_sha256=row.document_sha256,
        signer_user_id=row.signer_user_id,
        signer_org_id=row.signer_org_id,
        signer_credit_code=row.signer_credit_code,
        signed_at=row.signed_at,
        key_id=row.key_id,
        algorithm=row.algorithm,
        value=row.value,
        statement=row.statement,
    )
