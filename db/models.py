"""The relational schema. Alembic migrations under ``migrations/`` are the only way it changes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from security.columns import EncryptedString

JsonDict = dict[str, Any]


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        JsonDict: JSONB().with_variant(JSON(), "sqlite"),
    }


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    legal_name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    licence_number: Mapped[str | None] = mapped_column(EncryptedString("licence_number"))
    bank_account: Mapped[str | None] = mapped_column(EncryptedString("bank_account"))
    # As on the business licence; two parties at one address are related (order loans).
    registered_address: Mapped[str | None] = mapped_column(Text)
    # A buyer that is a general taxpayer (一般纳税人) deducts input VAT and compares quotes net of
    # it; a small-scale taxpayer (小规模纳税人) cannot (rules/landed_cost.py).
    deducts_input_vat: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(30)))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Document(Base):
    """A stored file: the bytes live in the object store under their SHA-256."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    object_key: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AccreditationApplication(Base):
    __tablename__ = "accreditation_applications"
    # Platform staff's list, latest first, all or by status (migration 0017).
    __table_args__ = (
        Index("ix_accreditation_applications_submitted", "submitted_at", "id"),
        Index("ix_accreditation_applications_status_submitted", "status", "submitted_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    supplier_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    workflow_id: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(30))
    legal_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18))
    licence_number: Mapped[str] = mapped_column(EncryptedString("licence_number"))
    licence_document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    product_categories: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)
    risk_band: Mapped[str | None] = mapped_column(String(10))
    report: Mapped[JsonDict | None]
    reasons: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    submitted_by: Mapped[str] = mapped_column(String(40))
    submitted_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class ApplicationCertificate(Base):
    __tablename__ = "application_certificates"
    __table_args__ = (UniqueConstraint("application_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("accreditation_applications.id"), index=True
    )
    position: Mapped[int]
    standard: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(EncryptedString("certificate_number"))
    certification_body: Mapped[str] = mapped_column(String(200))
    accreditation_body: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(Text)
    issue_date: Mapped[date] = mapped_column(Date)
    expiry_date: Mapped[date] = mapped_column(Date)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    passed: Mapped[bool | None]
    check_reasons: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)


class FinancialStatement(Base):
    __tablename__ = "financial_statements"
    __table_args__ = (UniqueConstraint("application_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("accreditation_applications.id"), index=True
    )
    year: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    # Decimal figures as strings: JSON numbers would pass through floats.
    figures: Mapped[dict[str, str]] = mapped_column(JSONB)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))


class SupplierAccreditation(Base):
    """A supplier's standing: sourcing admits only ``accredited`` rows."""

    __tablename__ = "supplier_accreditations"
    # The suppliers register's order, next review first (migration 0036).
    __table_args__ = (Index("ix_supplier_accreditations_expires", "expires_on", "supplier_org_id"),)

    supplier_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("accreditation_applications.id"))
    status: Mapped[str] = mapped_column(String(20))
    tier: Mapped[str] = mapped_column(String(10))
    risk_band: Mapped[str] = mapped_column(String(10))
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    accredited_at: Mapped[datetime]
    expires_on: Mapped[date] = mapped_column(Date)
    certificate_document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


# A task without a due date sorts after every dated one (the inbox's order and its index).
NEVER_DUE = datetime(9999, 12, 31, tzinfo=UTC)


class HumanTask(Base):
    """One inbox row per task any workflow opens; the workflow holds the decision logic."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        Index("ix_human_tasks_inbox", "status", "role", "org_id"),
        # The inbox's filter, then its order (api.routes.tasks.OLDEST_DUE_FIRST), so a page is
        # read off the index in order; migration 0017.
        Index(
            "ix_human_tasks_due",
            "org_id",
            "role",
            "status",
            # As PostgreSQL prints it back, so the migration test compares it unchanged.
            text("COALESCE(due_at, '9999-12-31 00:00:00+00'::timestamp with time zone)"),
            "created_at",
            "id",
        ),
        # The tasks decided since a day: the dashboard's decision hours
        # (workbench.metrics_ops.decided_tasks); migration 0038.
        Index(
            "ix_human_tasks_decided",
            "decided_at",
            postgresql_where=text("(decided_at IS NOT NULL)"),
        ),
        # An e-waybill's submissions, latest decided last: the dashboard's filing latency
        # (workbench.metrics_ops.filings_by_week); migration 0037.
        Index(
            "ix_human_tasks_waybill_submission",
            text("(details ->> 'waybill_number'::text)"),
            "decided_at",
            postgresql_where=text("((kind)::text = 'waybill_submission'::text)"),
        ),
    )

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(120), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(30))
    org_id: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    outcomes: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    document_ids: Mapped[list[str]] = mapped_column(ARRAY(String(160)), default=list)
    details: Mapped[JsonDict] = mapped_column(default=dict)
    excluded_user_ids: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    status: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AuditEntry(Base):
    """Append-only: a trigger refuses DELETE and every UPDATE but sealing. An entry is inserted
    unsealed (no seq or hashes) without waiting on other writers; the sealer
    (``stack/audit_sealer.py``) later gives it its place in the chain, each hashing the one before.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_unsealed", "id", postgresql_where=text("seq IS NULL")),)

    # Insertion order; the chain's order is ``seq``, given when the entry is sealed.
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime]
    actor_user_id: Mapped[str] = mapped_column(String(40))
    actor_org_id: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(200), index=True)
    detail: Mapped[JsonDict]
    # Retried activities pass the same key, so an event is logged once.
    dedup_key: Mapped[str | None] = mapped_column(String(240), unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed head of the audit chain (size, head hash, time; Ed25519), also published to the
    object store, so deleting the newest entries and their checkpoint rows is still detected."""

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(120))
    published_at: Mapped[datetime | None]
    # Where ``GET /audit/verify`` resumes: the newest checkpoint it has verified up to.
    verified_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    method_path: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))  # in_flight | done
    status_code: Mapped[int | None]
    response_body: Mapped[bytes | None]
    response_type: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Notification(Base):
    """A message to an organisation's members holding a role; shown by ``GET /notifications``."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_org_role", "org_id", "role"),
        # The list's filter then its order, newest first by a backward scan (migration 0017).
        Index("ix_notifications_org_created", "org_id", "created_at", "id"),
        Index("ix_notifications_org_kind_created", "org_id", "kind", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(240), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str | None] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(120))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


# -- sourcing ------------------------------------------------------------------------------


class Rfq(Base):
    """A request for quotation; ``body`` is the workflow's input as JSON (Decimals as strings)."""

    __tablename__ = "rfqs"
    # A buyer's RFQs newest first (migration 0017).
    __table_args__ = (Index("ix_rfqs_buyer_created", "buyer_org_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    buyer_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    workflow_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    sealed: Mapped[bool]
    # "rfq" when sourced (POST /rfqs), "catalogue" for a purchase from the catalogue recorded as
    # an RFQ (db.catalogue_purchases): its quote is the offers' terms, its contract drafted alike.
    origin: Mapped[str] = mapped_column(String(20), server_default="rfq")
    category: Mapped[str | None] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    quote_deadline: Mapped[datetime]
    needed_by: Mapped[date] = mapped_column(Date)
    body: Mapped[JsonDict]
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class RfqInvitation(Base):
    """Which suppliers may see and quote an RFQ, and whether they have answered."""

    __tablename__ = "rfq_invitations"
    __table_args__ = (Index("ix_rfq_invitations_supplier", "supplier_org_id"),)

    rfq_id: Mapped[str] = mapped_column(ForeignKey("rfqs.id"), primary_key=True)
    supplier_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))  # invited | quoted | declined
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None]


class QuoteRecord(Base):
    """One row per revision: a revision supersedes the one before, which stays as history."""

    __tablename__ = "quotes"
    __table_args__ = (UniqueConstraint("rfq_id", "supplier_org_id", "revision"),)

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    rfq_id: Mapped[str] = mapped_column(ForeignKey("rfqs.id"), index=True)
    supplier_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    revision: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    terms: Mapped[JsonDict]
    # The revision priced against its RFQ's lines when recorded (rules.quote_pricing, migration
    # 0027); None before 0027, past the integer path's bounds or covering no RFQ line, and such
    # a revision is priced at each comparison.
    priced: Mapped[bytes | None] = mapped_column(LargeBinary)
    submitted_by: Mapped[str] = mapped_column(String(40))
    submitted_at: Mapped[datetime]


class RfqComparison(Base):
    """The buyer's comparison of an RFQ as served (its JSON bytes, deflated), one row a view
    (``top``, ``eligible_only``), filed under the digest of every input it was computed from
    (``db.comparison_store``): a changed input gives another digest, so a row only ever answers
    the request it was computed for. Written when quoting closes, before the buyer can click."""

    __tablename__ = "rfq_comparisons"

    rfq_id: Mapped[str] = mapped_column(ForeignKey("rfqs.id"), primary_key=True)
    view: Mapped[str] = mapped_column(String(20), primary_key=True)
    key_digest: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    computed_at: Mapped[datetime]


class Contract(Base):
    __tablename__ = "contracts"
    # Each side's list newest first, staff's by status or all (api.routes.e_contracts, the
    # contracts register); migration 0036.
    __table_args__ = (
        Index("ix_contracts_buyer_created", "buyer_org_id", "created_at", "id"),
        Index("ix_contracts_supplier_created", "supplier_org_id", "created_at", "id"),
        Index("ix_contracts_status_created", "status", "created_at", "id"),
        Index("ix_contracts_created", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    rfq_id: Mapped[str] = mapped_column(ForeignKey("rfqs.id"), index=True)
    workflow_id: Mapped[str] = mapped_column(String(120))
    buyer_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    supplier_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[str] = mapped_column(String(30))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[JsonDict]
    total_amount: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    currency: Mapped[str] = mapped_column(String(3))
    amount_in_chain_currency: Mapped[Decimal | None] = mapped_column(Numeric(20, 2))
    chain_currency: Mapped[str | None] = mapped_column(String(3))
    fx_rate: Mapped[JsonDict | None]
    approvals: Mapped[list[JsonDict]] = mapped_column(JSONB, default=list)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    sign_by: Mapped[datetime | None]
    # Set once every party has signed; the fulfilment issue starts an order from here.
    executed_at: Mapped[datetime | None]
    fulfilment_status: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class ContractSignature(Base):
    __tablename__ = "contract_signatures"
    __table_args__ = (UniqueConstraint("contract_id", "signer_org_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    signer_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    signer_user_id: Mapped[str] = mapped_column(String(40))
    signer_credit_code: Mapped[str] = mapped_column(String(18))
    signed_at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(ForeignKey("signing_keys.id"))
    algorithm: Mapped[str] = mapped_column(String(20))
    document_sha256: Mapped[str] = mapped_column(String(64))
    statement: Mapped[str] = mapped_column(Text)
    value: Mapped[str] = mapped_column(Text)


class SigningKey(Base):
    """An organisation's signing key; the private half is encrypted at rest like other secrets."""

    __tablename__ = "signing_keys"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    algorithm: Mapped[str] = mapped_column(String(20))
    public_key: Mapped[str] = mapped_column(String(100))
    private_key: Mapped[str] = mapped_column(EncryptedString("signing_key"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    retired_at: Mapped[datetime | None]


class ApprovalChainRecord(Base):
    """A buyer organisation's finance approval levels; absent means the platform default."""

    __tablename__ = "approval_chains"

    buyer_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    levels: Mapped[list[JsonDict]] = mapped_column(JSONB)
    updated_by: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class ExchangeRate(Base):
    """A recorded rate: one ``base`` costs ``rate`` ``quote``. Awards convert at the latest."""

    __tablename__ = "exchange_rates"
    __table_args__ = (UniqueConstraint("base", "quote", "as_of"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    base: Mapped[str] = mapped_column(String(3))
    quote: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Numeric(18, 8))
    as_of: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


# -- fulfilment ----------------------------------------------------------------------------


class Order(Base):
    """The order an executed contract becomes; its workflow holds the process."""

    __tablename__ = "orders"
    # Each side's list newest first (api.routes.orders: its filter, then created_at read
    # backwards), and platform staff's by status or all; migration 0017.
    __table_args__ = (
        Index("ix_orders_buyer_created", "buyer_org_id", "created_at", "id"),
        Index("ix_orders_supplier_created", "supplier_org_id", "created_at", "id"),
        Index("ix_orders_carrier_created", "carrier_org_id", "created_at", "id"),
        Index("ix_orders_status_created", "status", "created_at", "id"),
        Index("ix_orders_created", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), unique=True)
    workflow_id: Mapped[str] = mapped_column(String(120))
    buyer_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    supplier_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[str] = mapped_column(String(30))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    dangerous_goods: Mapped[bool]
    total_amount: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    currency: Mapped[str] = mapped_column(String(3))
    paid_amount: Mapped[Decimal] = mapped_column(Numeric(20, 2), default=Decimal(0))
    # The carrier the supplier chose at confirmation; it makes the waybills and reports the
    # shipments' events. None before carriers were parties, and when no carrier is needed.
    carrier_org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class StockReservation(Base):
    """Stock the supplier commits to an order (against the stock it declared when quoting)."""

    __tablename__ = "stock_reservations"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    line_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    supplier_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    unit: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # reserved | released
    reserved_at: Mapped[datetime] = mapped_column(server_default=func.now())
    released_at: Mapped[datetime | None]


class OrderShipment(Base):
    """One consignment of an order, as the supplier planned it when confirming."""

    __tablename__ = "shipments"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(30))
    quantities: Mapped[JsonDict]  # line id -> quantity (decimal text) in the line's unit
    un_numbers: Mapped[list[str]] = mapped_column(ARRAY(String(10)))
    waybill_number: Mapped[str | None] = mapped_column(String(80), unique=True)
    # The consignor's consignment list (托运清单) the carrier makes the waybill from.
    consignment_document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class CarrierEvent(Base):
    __tablename__ = "carrier_events"
    __table_args__ = (UniqueConstraint("order_id", "shipment_number", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    shipment_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    location: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    proof_document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    reported_by: Mapped[str] = mapped_column(String(40))


class Waybill(Base):
    """A filed e-waybill: immutable once filed (JSON and PDF stored by SHA-256); the regulator
    role reads these rows and nothing else."""

    __tablename__ = "waybills"
    # The regulator's search (api.routes.waybill_search), migration 0017; the folded carrier
    # name's GIN trigram index (ix_waybills_carrier_folded, 0039) is made there alone, as
    # 0015's: it needs pg_trgm.
    __table_args__ = (
        Index("ix_waybills_plate_key", text("upper(translate(vehicle_plate, '·• -', ''))")),
        Index("ix_waybills_un_numbers", "un_numbers", postgresql_using="gin"),
        Index("ix_waybills_made_by_filed", "made_by_org_id", "filed_at"),
        Index("ix_waybills_status_filed", "status", "filed_at"),
    )

    waybill_number: Mapped[str] = mapped_column(String(80), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # filed | departed | delivered | voided
    receipt_number: Mapped[str] = mapped_column(String(80))
    filed_at: Mapped[datetime] = mapped_column(index=True)
    dispatch_date: Mapped[date] = mapped_column(Date, index=True)
    consignor_name: Mapped[str] = mapped_column(String(200))
    consignee_name: Mapped[str] = mapped_column(String(200))
    carrier_name: Mapped[str] = mapped_column(String(200), index=True)
    # ``workbench.search.fold`` of the name, kept by PostgreSQL (migration 0039): a search by
    # part of the name checks each row with a plain LIKE instead of folding it again.
    carrier_folded: Mapped[str] = mapped_column(
        Text, Computed("tradeflow_fold(carrier_name)", persisted=True), deferred=True
    )
    vehicle_plate: Mapped[str] = mapped_column(String(40), index=True)
    un_numbers: Mapped[list[str]] = mapped_column(ARRAY(String(10)))
    hazard_classes: Mapped[list[str]] = mapped_column(ARRAY(String(10)))
    record: Mapped[JsonDict]
    json_document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    json_sha256: Mapped[str] = mapped_column(String(64))
    pdf_document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    # Who made it (制单): the carrier's organisation and dispatcher. None on the waybills a
    # supplier submitted before carriers made them.
    made_by_org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    made_by: Mapped[str] = mapped_column(String(200), default="", server_default="")


class LoadingCheck(Base):
    """The loader's five checks (五必查) before loading a shipment, one row per check made."""

    __tablename__ = "loading_checks"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    shipment_number: Mapped[int] = mapped_column(Integer)
    waybill_number: Mapped[str] = mapped_column(String(80))
    checks: Mapped[JsonDict]  # check name -> passed
    passed: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    checked_by: Mapped[str] = mapped_column(String(40))
    checked_at: Mapped[datetime]


class WaybillFiling(Base):
    """Each accepted submission to the regulator: the filing itself, then status changes."""

    __tablename__ = "waybill_filings"
    __table_args__ = (UniqueConstraint("waybill_number", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    waybill_number: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # filed | departed | delivered | voided
    receipt: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime]


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), unique=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    currency: Mapped[str] = mapped_column(String(3))
    due_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime]


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(100))
    paid_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())


# -- operations ----------------------------------------------------------------------------


class Incident(Base):
    """An activity that keeps failing with errors retrying may cure (an external system or the
    database down): opened once it passes the retry threshold, resolved when it succeeds or
    settles. Ops see them at ``GET /incidents``; the worker's metrics show the same live."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_open", "resolved_at"),)

    id: Mapped[str] = mapped_column(String(400), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(240))
    activity_type: Mapped[str] = mapped_column(String(80))
    attempts: Mapped[int] = mapped_column(Integer)
    first_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# The carriers' tables live beside the queries about them (db.fleet), on this same Base: imported
# last, so whoever loads the schema (Alembic, the migration test) sees every table.
from db import catalogue as _catalogue  # noqa: E402, F401
from db import catalogue_imports as _catalogue_imports  # noqa: E402, F401
from db import catalogue_purchases as _catalogue_purchases  # noqa: E402, F401
from db import cold_chain as _cold_chain  # noqa: E402, F401
from db import finance as _finance  # noqa: E402, F401
from db import fleet as _fleet  # noqa: E402, F401
from db import notification_rules as _notification_rules  # noqa: E402, F401
from db import second_factor as _second_factor  # noqa: E402, F401
