"""Rows for paging tests: several of each listed kind, written directly, times shared in pairs so
that a page boundary falls between rows whose first sort key is equal."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from contracts.common import Actor
from db.audit_log import append_audit
from db.models import (
    AccreditationApplication,
    Contract,
    Document,
    ExchangeRate,
    HumanTask,
    Notification,
    Order,
    QuoteRecord,
    Rfq,
    RfqInvitation,
    SigningKey,
    Waybill,
)
from db.session import transaction
from tests.harness.sourcing import quote_terms


def paired_times(count: int, *, start: datetime | None = None) -> Iterator[datetime]:
    """``count`` instants, newest first, each shared by two rows."""
    newest = start or datetime.now(UTC)
    for i in range(count):
        yield newest - timedelta(seconds=i // 2)


def _tag() -> str:
    return uuid.uuid4().hex[:12]


def document(sessions: sessionmaker[Session], org_id: str) -> str:
    """A document row (no bytes stored: listings never read them)."""
    document_id = f"doc_{uuid.uuid4().hex}"
    with transaction(sessions) as session:
        session.add(
            Document(
                id=document_id,
                org_id=org_id,
                kind="test",
                sha256="0" * 64,
                object_key="sha256/none",
                filename="none.pdf",
                content_type="application/pdf",
                size=0,
                created_by="usr_test",
            )
        )
    return document_id


def rfqs(sessions: sessionmaker[Session], buyer_org_id: str, count: int) -> list[str]:
    ids = []
    with transaction(sessions) as session:
        for at in paired_times(count):
            rfq_id = f"rfq_{_tag()}"
            session.add(
                Rfq(
                    id=rfq_id,
                    buyer_org_id=buyer_org_id,
                    workflow_id=f"Rfq:{rfq_id}",
                    title=f"Paged {rfq_id}",
                    status="open",
                    sealed=False,
                    currency="CNY",
                    quote_deadline=at + timedelta(days=7),
                    needed_by=(at + timedelta(days=30)).date(),
                    body={},
                    created_by="usr_test",
                    created_at=at,
                )
            )
            ids.append(rfq_id)
    return ids


def quotes(
    sessions: sessionmaker[Session], rfq_id: str, supplier_org_id: str, count: int
) -> list[str]:
    """``count`` revisions of one supplier's quote (the supplier invited)."""
    ids = []
    with transaction(sessions) as session:
        session.add(RfqInvitation(rfq_id=rfq_id, supplier_org_id=supplier_org_id, status="quoted"))
        for revision, at in enumerate(paired_times(count), start=1):
            quote_id = f"{rfq_id}:{supplier_org_id}:r{revision}"
            session.add(
                QuoteRecord(
                    id=quote_id,
                    rfq_id=rfq_id,
                    supplier_org_id=supplier_org_id,
                    revision=revision,
                    status="superseded",
                    terms=quote_terms(valid_until=date(2030, 1, 1)).model_dump(mode="json"),
                    submitted_by="usr_test",
                    submitted_at=at,
                )
            )
            ids.append(quote_id)
    return ids


def contracts(
    sessions: sessionmaker[Session], buyer_org_id: str, supplier_org_id: str, count: int
) -> list[str]:
    """``count`` contracts, each of its own RFQ."""
    ids = []
    rfq_ids = rfqs(sessions, buyer_org_id, count)
    with transaction(sessions) as session:
        for rfq_id, at in zip(rfq_ids, paired_times(count), strict=True):
            contract_id = f"{rfq_id}-C1"
            session.add(
                Contract(
                    id=contract_id,
                    rfq_id=rfq_id,
                    workflow_id=f"Contract:{contract_id}",
                    buyer_org_id=buyer_org_id,
                    supplier_org_id=supplier_org_id,
                    status="executed",
                    terms={},
                    total_amount=Decimal(100),
                    currency="CNY",
                    created_at=at,
                )
            )
            ids.append(contract_id)
    return ids


def orders(
    sessions: sessionmaker[Session], buyer_org_id: str, supplier_org_id: str, count: int
) -> list[str]:
    """``count`` orders, each of its own contract."""
    ids = []
    contract_ids = contracts(sessions, buyer_org_id, supplier_org_id, count)
    with transaction(sessions) as session:
        for contract_id, at in zip(contract_ids, paired_times(count), strict=True):
            order_id = f"ord-{contract_id}"
            session.add(
                Order(
                    id=order_id,
                    contract_id=contract_id,
                    workflow_id=f"Order:{order_id}",
                    buyer_org_id=buyer_org_id,
                    supplier_org_id=supplier_org_id,
                    status="awaiting_confirmation",
                    dangerous_goods=True,
                    total_amount=Decimal(100),
                    currency="CNY",
                    created_at=at,
                )
            )
            ids.append(order_id)
    return ids


def filed_waybill(
    number: str, order_id: str, document_id: str, at: datetime, **fields: Any
) -> Waybill:
    """A filed waybill's row as sealing writes it, its JSON and PDF both ``document_id``;
    ``fields`` replace the stand-in parties, plate and goods."""
    values: dict[str, Any] = {
        "status": "filed",
        "receipt_number": f"R{number}",
        "consignor_name": "Consignor",
        "consignee_name": "Consignee",
        "carrier_name": "Carrier",
        "vehicle_plate": "苏B12345",
        "un_numbers": ["UN1090"],
        "hazard_classes": ["3"],
        "record": {"waybill_number": number},
        "json_sha256": "0" * 64,
        "pdf_sha256": "0" * 64,
    }
    values.update(fields)
    return Waybill(
        waybill_number=number,
        order_id=order_id,
        filed_at=at,
        dispatch_date=at.date(),
        json_document_id=document_id,
        pdf_document_id=document_id,
        **values,
    )


def waybills(sessions: sessionmaker[Session], order_id: str, carrier: str, count: int) -> list[str]:
    """``count`` filed waybills of ``carrier`` (a name unique to the test, to filter by)."""
    ids = []
    with sessions() as session:
        org_id = session.get_one(Order, order_id).supplier_org_id
    copy = document(sessions, org_id)
    with transaction(sessions) as session:
        for at in paired_times(count):
            number = f"WB{_tag().upper()}"
            session.add(filed_waybill(number, order_id, copy, at, carrier_name=carrier, record={}))
            ids.append(number)
    return ids


def tasks(sessions: sessionmaker[Session], actor: Actor, count: int) -> list[str]:
    """``count`` open tasks for the actor's organisation and first role; every third has no due
    date (those sort last), the others share due dates in pairs."""
    ids = []
    with transaction(sessions) as session:
        for i, at in enumerate(paired_times(count)):
            task_id = f"task_{_tag()}"
            session.add(
                HumanTask(
                    id=task_id,
                    workflow_id="Test:paging",
                    kind="paging_test",
                    role=actor.roles[0].value,
                    org_id=actor.org_id,
                    subject_type="test",
                    subject_id=task_id,
                    title="Paged task",
                    summary="",
                    outcomes=["done"],
                    status="open",
                    due_at=None if i % 3 == 0 else at + timedelta(days=1),
                    created_at=datetime.now(UTC),
                )
            )
            ids.append(task_id)
    return ids


def notifications(sessions: sessionmaker[Session], org_id: str, count: int) -> list[str]:
    ids = []
    with transaction(sessions) as session:
        for at in paired_times(count):
            notification_id = f"note_{_tag()}"
            session.add(
                Notification(
                    id=notification_id,
                    org_id=org_id,
                    role=None,
                    kind="paging_test",
                    subject_type="test",
                    subject_id=notification_id,
                    message="paged",
                    created_at=at,
                )
            )
            ids.append(notification_id)
    return ids


def rates(sessions: sessionmaker[Session], base: str, quote: str, count: int) -> list[int]:
    """``count`` daily rates of a pair (dates distinct, as the table requires)."""
    with transaction(sessions) as session:
        rows = [
            ExchangeRate(
                base=base,
                quote=quote,
                rate=Decimal("1.5") + i,
                as_of=date(2024, 1, 1) + timedelta(days=i),
                source="paging test",
                recorded_by="usr_test",
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def audit_entries(
    sessions: sessionmaker[Session], actor: Actor, target_id: str, count: int
) -> None:
    with transaction(sessions) as session:
        for _ in range(count):
            append_audit(
                session, actor=actor, action="test.paged", target_type="test", target_id=target_id
            )


def applications(sessions: sessionmaker[Session], supplier_org_id: str, count: int) -> list[str]:
    ids = []
    licence = document(sessions, supplier_org_id)
    with transaction(sessions) as session:
        for at in paired_times(count):
            application_id = f"app_{_tag()}"
            session.add(
                AccreditationApplication(
                    id=application_id,
                    supplier_org_id=supplier_org_id,
                    workflow_id=f"Accreditation:{supplier_org_id}",
                    status="rejected",
                    legal_name="Paged Co.",
                    credit_code="91320200MA1PAGED0",
                    licence_number="LIC-PAGED",
                    licence_document_id=licence,
                    submitted_by="usr_test",
                    submitted_at=at,
                )
            )
            ids.append(application_id)
    return ids


def signing_keys(sessions: sessionmaker[Session], org_id: str, count: int) -> list[str]:
    """``count`` keys of an organisation (placeholders: listings never verify with them)."""
    ids = []
    with transaction(sessions) as session:
        for at in reversed(list(paired_times(count))):
            key_id = f"key_{_tag()}"
            session.add(
                SigningKey(
                    id=key_id,
                    org_id=org_id,
                    algorithm="ed25519",
                    public_key="placeholder",
                    private_key="placeholder",
                    created_at=at,
                )
            )
            ids.append(key_id)
    return ids
