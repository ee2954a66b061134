"""Sourcing test data: accredited suppliers, buyers, RFQs and quotes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from contracts.common import Actor, OrgKind, Role
from contracts.sourcing import (
    ApprovalChain,
    EvaluationWeights,
    Incoterm,
    InvitedSupplier,
    Party,
    PriceBreak,
    QuoteLine,
    QuoteTerms,
    RfqInput,
    RfqLine,
    TemperatureRange,
)
from db.models import (
    AccreditationApplication,
    ApprovalChainRecord,
    ExchangeRate,
    Organisation,
    SupplierAccreditation,
    User,
)
from db.session import transaction
from storage.object_store import ObjectStore
from tests.harness.builders import make_org, store_document


@dataclass(frozen=True)
class Member:
    """An organisation and one user of it with one role, as an actor."""

    org: Organisation
    actor: Actor


def member(sessions: sessionmaker[Session], org: Organisation, role: Role) -> Member:
    """A real user row (so the API's current-user check passes) holding ``role``."""
    user_id = f"usr_{role.value}_{uuid.uuid4().hex[:10]}"
    with transaction(sessions) as session:
        session.add(
            User(
                id=user_id,
                org_id=org.id,
                email=f"{user_id}@test.example",
                full_name=f"Test {role.value}",
                password_hash="not-a-login",
                roles=[role.value],
            )
        )
    return Member(org, Actor(user_id=user_id, org_id=org.id, roles=(role,)))


def buyer_org(sessions: sessionmaker[Session]) -> Organisation:
    return make_org(sessions, kind=OrgKind.BUYER)


def accredited_supplier(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    *,
    score: Decimal = Decimal(80),
    status: str = "accredited",
    category: str = "solvents",
    expires_on: date = date(2030, 1, 1),
) -> Organisation:
    """A supplier with a standing row as the accreditation workflow writes it."""
    org = make_org(sessions)
    certificate = store_document(sessions, store, org_id=org.id)
    application_id = f"app_{uuid.uuid4().hex[:12]}"
    now = datetime.now().astimezone()
    with transaction(sessions) as session:
        session.add(
            AccreditationApplication(
                id=application_id,
                supplier_org_id=org.id,
                workflow_id=f"Accreditation:{org.id}",
                status=status,
                legal_name=org.legal_name,
                credit_code=org.credit_code,
                licence_number="L-TEST-0001",
                licence_document_id=certificate.document_id,
                product_categories=[category],
                reasons=[],
                submitted_by="usr_test",
                submitted_at=now,
            )
        )
        session.flush()
        session.add(
            SupplierAccreditation(
                supplier_org_id=org.id,
                application_id=application_id,
                status=status,
                tier="tier_2",
                risk_band="low",
                score=score,
                accredited_at=now,
                expires_on=expires_on,
                certificate_document_id=certificate.document_id,
                status_reason="",
                revision=1,
            )
        )
    return org


def set_standing(sessions: sessionmaker[Session], org_id: str, status: str) -> None:
    with transaction(sessions) as session:
        row = session.get(SupplierAccreditation, org_id)
        assert row is not None
        row.status = status


def set_approval_chain(
    sessions: sessionmaker[Session], buyer_org_id: str, chain: ApprovalChain
) -> None:
    with transaction(sessions) as session:
        session.merge(
            ApprovalChainRecord(
                buyer_org_id=buyer_org_id,
                currency=chain.currency,
                levels=[level.model_dump(mode="json") for level in chain.levels],
                updated_by="usr_test",
            )
        )


def record_rate(
    sessions: sessionmaker[Session], base: str, quote: str, rate: str, as_of: date
) -> None:
    with transaction(sessions) as session:
        session.add(
            ExchangeRate(
                base=base,
                quote=quote,
                rate=Decimal(rate),
                as_of=as_of,
                source="test: fixed rate",
                recorded_by="usr_test",
            )
        )


def invited(org: Organisation, score: Decimal = Decimal(80)) -> InvitedSupplier:
    return InvitedSupplier(
        org_id=org.id, legal_name=org.legal_name, credit_code=org.credit_code, score=score
    )


def lines() -> tuple[RfqLine, ...]:
    """Two lines: a dangerous good (acetone) and a chilled one."""
    return (
        RfqLine(
            line_id="L1",
            description="丙酮 Acetone, technical grade",
            specification="purity ≥ 99.5%, 200 L steel drums",
            quantity=Decimal(1000),
            unit="L",
            target_unit_price=Decimal("9.50"),
            un_number="UN1090",
            packing_group="II",
        ),
        RfqLine(
            line_id="L2",
            description="冷藏试剂 Chilled reagent kit",
            quantity=Decimal(200),
            unit="kit",
            temperature=TemperatureRange(min_celsius=Decimal(2), max_celsius=Decimal(8)),
        ),
    )


def rfq(
    buyer: Member,
    suppliers: list[Organisation],
    *,
    now: datetime,
    deadline_in: timedelta = timedelta(days=3),
    sealed: bool = False,
    currency: str = "CNY",
    rfq_lines: tuple[RfqLine, ...] | None = None,
) -> RfqInput:
    return RfqInput(
        rfq_id=f"rfq_{uuid.uuid4().hex[:12]}",
        buyer_org_id=buyer.org.id,
        buyer_legal_name=buyer.org.legal_name,
        buyer_credit_code=buyer.org.credit_code,
        title="季度溶剂采购 Quarterly solvents",
        lines=rfq_lines or lines(),
        delivery_place="上海市金山区化学工业区 Jinshan Chemical Park, Shanghai",
        incoterm=Incoterm.DAP,
        needed_by=(now + timedelta(days=30)).date(),
        quote_deadline=now + deadline_in,
        currency=currency,
        payment_terms="30 days after acceptance / 验收后30天付款",
        weights=EvaluationWeights(),
        sealed=sealed,
        category=None,
        suppliers=tuple(invited(s) for s in suppliers),
        created_by=buyer.actor,
        created_at=now,
    )


def quote_terms(
    *,
    valid_until: date,
    price_l1: str = "9.00",
    price_l2: str = "150.00",
    lead_time_days: int = 5,
    freight: str = "0",
    line_ids: tuple[str, ...] = ("L1", "L2"),
) -> QuoteTerms:
    prices = {"L1": price_l1, "L2": price_l2}
    return QuoteTerms(
        lines=tuple(
            QuoteLine(
                line_id=line_id,
                unit_price=Decimal(prices.get(line_id, "10.00")),
                price_breaks=(
                    PriceBreak(
                        min_quantity=Decimal(500),
                        unit_price=Decimal(prices.get(line_id, "10.00")) - Decimal("0.50"),
                    ),
                )
                if line_id == "L1"
                else (),
                stock_available=Decimal(5000),
                lead_time_days=lead_time_days,
                logistics_cost=Decimal("300.00"),
                transit_days=2,
            )
            for line_id in line_ids
        ),
        valid_until=valid_until,
        freight=Decimal(freight),
        tax_rate=Decimal("0.13"),
    )


def party(member_: Member) -> Party:
    org = member_.org
    return Party(org_id=org.id, legal_name=org.legal_name, credit_code=org.credit_code)


def org_row(sessions: sessionmaker[Session], org_id: str) -> Organisation:
    with sessions() as session:
        org = session.get(Organisation, org_id)
        assert org is not None
        return org
