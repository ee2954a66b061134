"""Rendering documents to PDF and storing them, content-addressed, in the object store."""

from __future__ import annotations

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
        with self._sessions() as session:
            existing = session.get(Document, issue.document_id)
            if existing is not None:
                return document_ref(existing)
            approvers = [session.get(User, user_id) for user_id in issue.approver_user_ids]
        pdf = render_pdf(
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
            },
        )
        stored = put_content(self._store, pdf, content_type=PDF)
        filename = f"accreditation-certificate-{issue.credit_code}.pdf"
        with transaction(self._sessions) as session:
            if session.get(Document, issue.document_id) is None:
                session.add(
                    Document(
                        id=issue.document_id,
                        org_id=issue.supplier_org_id,
                        kind="accreditation_certificate",
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
                    target_id=issue.document_id,
                    detail={"sha256": stored.sha256, "kind": "accreditation_certificate"},
                    dedup_key=f"document.issued:{issue.document_id}",
                )
            row = session.get(Document, issue.document_id)
            assert row is not None
            return document_ref(row)


def document_ref(row: Document) -> DocumentRef:
    return DocumentRef(
        document_id=row.id, sha256=row.sha256, filename=row.filename, content_type=row.content_type
    )
