"""Rendering documents to PDF and storing them, content-addressed, in the object store."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from contracts.accreditation import IssueCertificateInput
from contracts.common import SYSTEM_ACTOR, DocumentRef
from db.audit_log import append_audit
from db.models import Document, User
from db.session import transaction
from documents.render import render_pdf
from storage.object_store import ObjectStore, put_content

PDF = "application/pdf"


class DocumentActivities:
    def __init__(self, sessions: sessionmaker[Session], store: ObjectStore) -> None:
        self._sessions = sessions
        self._store = store

    @activity.defn(name="issue_accreditation_certificate")
    def issue_accreditation_certificate(self, issue: IssueCertificateInput) -> DocumentRef:
        """Render and store the certificate once; a retry returns the document already issued."""

        def render() -> bytes:
            with self._sessions() as session:
                approvers = [session.get(User, user_id) for user_id in issue.approver_user_ids]
            return render_pdf(
                "accreditation_certificate.html.j2",
                {
                    "document_id": issue.document_id,
                    "certificate_no": issue.document_id,
                    "supplier_name": issue.legal_name,
                    "credit_code": issue.credit_code,
                    "tier": issue.tier.value,
                    "risk_band": issue.risk_band.value,
                    "accredited_on": issue.accredited_on,
                    "expires_on": issue.expires_on,
                    "certificates": [c.model_dump() for c in issue.certificates],
                    "approvers": [u.full_name for u in approvers if u is not None],
                    "carrier_licence": (
                        issue.carrier_licence.model_dump() if issue.carrier_licence else None
                    ),
                },
            )

        return issue_pdf(
            self._sessions,
            self._store,
            document_id=issue.document_id,
            org_id=issue.supplier_org_id,
            kind="accreditation_certificate",
            filename=f"accreditation-certificate-{issue.credit_code}.pdf",
            render=render,
        )


def issue_pdf(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    *,
    document_id: str,
    org_id: str,
    kind: str,
    filename: str,
    render: Callable[[], bytes],
) -> DocumentRef:
    """Render a document once under ``document_id`` and store it by SHA-256. A retry returns
    the document already stored without rendering again: weasyprint output differs byte for
    byte between runs, so a second render would be a second document."""
    with sessions() as session:
        existing = session.get(Document, document_id)
        if existing is not None:
            return document_ref(existing)
    stored = put_content(store, render(), content_type=PDF)
    with transaction(sessions) as session:
        if session.get(Document, document_id) is None:
            session.add(
                Document(
                    id=document_id,
                    org_id=org_id,
                    kind=kind,
                    sha256=stored.sha256,
                    object_key=stored.key,
                    filename=filename,
                    content_type=PDF,
                    size=stored.size,
                    created_by=SYSTEM_ACTOR.user_id,
                )
            )
            append_audit(
                session,
                actor=SYSTEM_ACTOR,
                action="document.issued",
                target_type="document",
                target_id=document_id,
                detail={"sha256": stored.sha256, "kind": kind},
                dedup_key=f"document.issued:{document_id}",
            )
            session.flush()
        row = session.get(Document, document_id)
        if row is None:  # unreachable: added above in this transaction
            raise RuntimeError(f"document {document_id} vanished")
        return document_ref(row)


def document_ref(row: Document) -> DocumentRef:
    return DocumentRef(
        document_id=row.id, sha256=row.sha256, filename=row.filename, content_type=row.content_type
    )
