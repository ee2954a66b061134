"""The workbench benchmark's data, written straight to PostgreSQL as the processes leave it (not
timed): a register of accredited suppliers, the operator's open and decided tasks, and a quarter
of orders with their deliveries.

- The register: ``suppliers`` supplier organisations, each with its accepted application, one or
  two certificates (numbers encrypted, as the column stores them) and its standing, so the
  suppliers register joins and counts what it does in production.
- Tasks: ``open_tasks`` open review tasks for the platform's compliance role (the accreditation
  process's kinds: review, carrier review, second approval, annual re-review), about suppliers
  of the register; as many open tasks of other roles and organisations (a buyer's acceptance, a
  dispute, a waybill safety review, a failed reconciliation) that the compliance inbox must
  leave out; and decided disputes for the ops dashboard's lead times.
- Orders: ``orders`` orders over the last twelve weeks (the dashboard's window) between 20 buyers
  and the register's first suppliers, each of its RFQ and executed contract; most delivered (a
  carrier event, on time or late against the contract's date), a few cancelled.
Rows go in by multi-row INSERTs, thousands a statement.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OPERATOR_ORG_ID, OrgKind
from contracts.fulfilment import CarrierEventKind, OrderStatus
from db.models import (
    AccreditationApplication,
    ApplicationCertificate,
    CarrierEvent,
    Contract,
    HumanTask,
    Order,
    Organisation,
    Rfq,
    SupplierAccreditation,
)
from db.seed import seed_demo
from db.session import transaction
from rules.credit_code import make_credit_code, organisation_check_character
from tests.harness import listings

CHUNK = 2_000  # rows a statement
BUYERS = 20
TRADING_SUPPLIERS = 500  # the register's first suppliers sell the orders
WINDOW_DAYS = 83  # orders placed within the dashboard's twelve weeks
_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CITIES = ("无锡", "苏州", "常州", "南通", "宁波", "嘉兴", "绍兴", "东莞", "佛山", "惠州")
_TRADES = ("精细化工", "新材料", "化学试剂", "冷链食品", "电子材料", "涂料", "医药中间体")
# (kind, title) of the compliance role's tasks, as the accreditation workflows word them.
_REVIEWS = (
    ("accreditation_review", "Review accreditation: "),
    ("accreditation_review", "Review carrier accreditation: "),
    ("accreditation_second_review", "Second approval (four eyes): "),
    ("accreditation_financial_review", "Annual financial re-review: "),
)
# (kind, process, role, outcomes) of other people's tasks, which the compliance inbox leaves out.
_OTHERS = (
    ("order_acceptance", "Order", "buyer", ["accept", "dispute"]),
    ("order_dispute", "Order", "ops_supervisor", ["accept", "reject"]),
    ("waybill_safety_review", "Order", "logistics", ["approve", "reject"]),
    ("bank_reconciliation_failed", "finance-reconciliation", "finance", ["retry", "end"]),
)


@dataclass(frozen=True)
class Supplier:
    org_id: str
    legal_name: str
    credit_code: str


@dataclass(frozen=True)
class Workload:
    suppliers: tuple[Supplier, ...]
    open_tasks: int  # the compliance role's
    other_tasks: int
    decided_tasks: int
    orders: int
    delivered: int


def build(
    sessions: sessionmaker[Session], *, suppliers: int, open_tasks: int, orders: int, seed: int
) -> Workload:
    """The demo organisations and users (``db.seed``: the people who sign in) and everything
    the three measures read (module docstring); the same rows for a seed."""
    with transaction(sessions) as session:
        seed_demo(session)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    document_id = listings.document(sessions, OPERATOR_ORG_ID)
    register = _register(sessions, rng, suppliers, document_id, now)
    others = list(_other_tasks(rng, open_tasks, now))
    decided = list(_decided(rng, max(1, open_tasks // 5), now))
    buyers = [_buyer(i) for i in range(BUYERS)]
    reviews = _reviews(rng, register, open_tasks, now)
    _insert(sessions, (HumanTask, [*reviews, *others, *decided]), (Organisation, buyers))
    delivered = _orders(sessions, rng, [b["id"] for b in buyers], register, orders, now)
    with sessions() as session:
        # As autovacuum would have by then on a live database: the planner's statistics.
        session.connection().exec_driver_sql("ANALYZE")
        session.commit()
    return Workload(register, open_tasks, len(others), len(decided), orders, delivered)


Table = tuple[type[Any], Sequence[dict[str, Any]]]


def _insert(sessions: sessionmaker[Session], *tables: Table) -> None:
    """Each table's rows in turn (parents first), in one transaction."""
    with transaction(sessions) as session:
        for model, rows in tables:
            for start in range(0, len(rows), CHUNK):
                session.execute(insert(model), list(rows[start : start + CHUNK]))


def credit_code(rng: random.Random) -> str:
    """A structurally valid GB 32100-2015 code of an enterprise registered in Wuxi."""
    body = "".join(rng.choice(_CODE_ALPHABET) for _ in range(8))
    return make_credit_code("91320200" + body + organisation_check_character(body))


def _register(
    sessions: sessionmaker[Session],
    rng: random.Random,
    count: int,
    document_id: str,
    now: datetime,
) -> tuple[Supplier, ...]:
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(credit_code(rng))
    suppliers = tuple(
        Supplier(
            f"org_bench_{i:06d}",
            f"{_CITIES[i % len(_CITIES)]}{_TRADES[i % len(_TRADES)]}有限公司{i:06d}",
            code,
        )
        for i, code in enumerate(sorted(codes, key=lambda _: rng.random()))
    )
    orgs, applications, certificates, standings = [], [], [], []
    for i, s in enumerate(suppliers):
        application_id = f"app_bench_{i:06d}"
        accredited = now - timedelta(days=rng.randrange(700))
        orgs.append(
            {
                "id": s.org_id,
                "kind": OrgKind.SUPPLIER.value,
                "legal_name": s.legal_name,
                "name_en": f"Bench Supplier {i:06d} Co., Ltd.",
                "credit_code": s.credit_code,
            }
        )
        applications.append(
            {
                "id": application_id,
                "supplier_org_id": s.org_id,
                "workflow_id": f"Accreditation:{s.org_id}",
                "status": "accredited",
                "legal_name": s.legal_name,
                "credit_code": s.credit_code,
                "licence_number": f"JS-320200-2019-{i:06d}",
                "licence_document_id": document_id,
                "risk_band": "low",
                "submitted_by": "usr_bench_supplier",
                "submitted_at": accredited - timedelta(days=3),
                "decided_at": accredited,
            }
        )
        for position in range(1 + i % 2):
            issued = accredited.date() - timedelta(days=300)
            certificates.append(
                {
                    "application_id": application_id,
                    "position": position,
                    "standard": ("ISO 9001", "ISO 14001")[position],
                    "number": f"CN-QMS-{i:06d}-{position}",
                    "certification_body": "China Quality Certification Centre (CQC)",
                    "accreditation_body": "CNAS",
                    "scope": "危险化学品的生产与销售 Production and sale of hazardous chemicals",
                    "issue_date": issued,
                    "expiry_date": issued + timedelta(days=1095),
                    "passed": True,
                }
            )
        standings.append(
            {
                "supplier_org_id": s.org_id,
                "application_id": application_id,
                "status": "suspended" if i % 50 == 0 else "accredited",
                "tier": ("tier_1", "tier_2", "tier_3")[i % 3],
                "risk_band": ("low", "medium", "high")[i % 3],
                "score": Decimal(60 + i % 40),
                "accredited_at": accredited,
                "expires_on": accredited.date() + timedelta(days=730),
                "certificate_document_id": document_id,
            }
        )
    _insert(
        sessions,
        (Organisation, orgs),
        (AccreditationApplication, applications),
        (ApplicationCertificate, certificates),
        (SupplierAccreditation, standings),
    )
    return suppliers


def _task(**fields: Any) -> dict[str, Any]:
    """A task row: the given columns over the ones an order's task leaves empty."""
    empty = {"document_ids": [], "excluded_user_ids": [], "details": {}, "summary": ""}
    return {"subject_type": "order", **empty, **fields}


def _reviews(
    rng: random.Random, register: Sequence[Supplier], count: int, now: datetime
) -> list[dict[str, Any]]:
    """The compliance role's open tasks, about suppliers of the register: some overdue, some
    escalated, each with the summary, details and documents a review task carries."""
    rows = []
    for i in range(count):
        s = register[i % len(register)]
        kind, title = _REVIEWS[i % len(_REVIEWS)]
        created = now - timedelta(minutes=rng.randrange(30 * 24 * 60))
        due = created + timedelta(days=3)
        rereview = kind.endswith("financial_review")
        summary = (
            f"{s.legal_name} ({s.credit_code}) applied for accreditation. Registry: licence "
            "JS-320200-2019 valid; 2 certificates checked, both valid; financial analysis: "
            "current ratio 1.84, debt ratio 0.42, three years of profit. Risk band low."
        )
        rows.append(
            _task(
                id=f"Accreditation:{s.org_id}:{kind}:{i:06d}",
                workflow_id=f"Accreditation:{s.org_id}",
                kind=kind,
                role="compliance",
                org_id=OPERATOR_ORG_ID,
                subject_type="accreditation_application",
                subject_id=f"app_bench_{i % len(register):06d}",
                title=title + s.legal_name,
                summary=summary,
                outcomes=["keep", "suspend"] if rereview else ["approve", "reject"],
                document_ids=[f"doc_bench_licence_{i:06d}", f"doc_bench_cert_{i:06d}"],
                details={"credit_code": s.credit_code, "risk_band": "low", "score": "82.50"},
                status="open",
                created_at=created,
                due_at=due,
                escalated_at=due if due < now and i % 3 == 0 else None,
            )
        )
    return rows


def _other_tasks(rng: random.Random, count: int, now: datetime) -> Iterator[dict[str, Any]]:
    for i in range(count):
        kind, process, role, outcomes = _OTHERS[i % len(_OTHERS)]
        created = now - timedelta(minutes=rng.randrange(30 * 24 * 60))
        workflow_id = f"{process}:bench_{i:06d}"
        yield _task(
            id=f"{workflow_id}:{kind}",
            workflow_id=workflow_id,
            kind=kind,
            role=role,
            org_id=f"org_bench_buyer_{i % BUYERS:02d}" if role == "buyer" else OPERATOR_ORG_ID,
            subject_id=f"ord_bench_{i:06d}",
            title=f"{kind.replace('_', ' ').capitalize()}: ord_bench_{i:06d}",
            outcomes=outcomes,
            status="open",
            created_at=created,
            due_at=created + timedelta(days=2),
        )


def _decided(rng: random.Random, count: int, now: datetime) -> Iterator[dict[str, Any]]:
    """Disputes the ops supervisors decided over the dashboard's window (its lead times)."""
    for i in range(count):
        created = now - timedelta(minutes=rng.randrange(WINDOW_DAYS * 24 * 60))
        workflow_id = f"Order:bench_decided_{i:06d}"
        yield _task(
            id=f"{workflow_id}:dispute",
            workflow_id=workflow_id,
            kind="order_dispute",
            role="ops_supervisor",
            org_id=OPERATOR_ORG_ID,
            subject_id=f"ord_bench_decided_{i:06d}",
            title="Order dispute",
            outcomes=["accept", "reject"],
            status="decided",
            outcome="accept",
            decided_by="usr_bench_supervisor",
            created_at=created,
            decided_at=min(now, created + timedelta(minutes=rng.randrange(10, 4 * 24 * 60))),
        )


def _buyer(i: int) -> dict[str, Any]:
    return {
        "id": f"org_bench_buyer_{i:02d}",
        "kind": OrgKind.BUYER.value,
        "legal_name": f"华东采购{i:02d}有限公司",
        "name_en": f"Bench Buyer {i:02d}",
        "credit_code": f"91310000MABUY{i:04d}X"[:18],
    }


def _orders(
    sessions: sessionmaker[Session],
    rng: random.Random,
    buyers: Sequence[str],
    register: Sequence[Supplier],
    count: int,
    now: datetime,
) -> int:
    """``count`` orders placed over the window, each of its RFQ and executed contract; 19 in
    20 standing, their delivered ones with a carrier event: the number delivered."""
    rfqs, contracts, orders, events = [], [], [], []
    for i in range(count):
        tag = f"bench{i:07d}"
        placed = now - timedelta(minutes=rng.randrange(WINDOW_DAYS * 24 * 60))
        promised: date = (placed + timedelta(days=14)).date()
        parties = {
            "buyer_org_id": buyers[i % len(buyers)],
            "supplier_org_id": register[i % min(TRADING_SUPPLIERS, len(register))].org_id,
        }
        amount = Decimal(rng.randrange(200, 20_000) * 100)  # CNY 20,000 to 2 million
        money = {"total_amount": amount, "currency": "CNY", "created_at": placed}
        rfqs.append(
            {
                "id": f"rfq_{tag}",
                "buyer_org_id": parties["buyer_org_id"],
                "workflow_id": f"Rfq:rfq_{tag}",
                "title": f"Bench {tag}",
                "status": "awarded",
                "sealed": False,
                "currency": "CNY",
                "quote_deadline": placed,
                "needed_by": promised,
                "body": {},
                "created_by": "usr_bench_buyer",
                "created_at": placed,
            }
        )
        contracts.append(
            {
                "id": f"ctr_{tag}",
                "rfq_id": f"rfq_{tag}",
                "workflow_id": f"Contract:ctr_{tag}",
                "status": "executed",
                "terms": {"delivery_date": promised.isoformat()},
                "executed_at": placed,
                **parties,
                **money,
            }
        )
        arrived = placed + timedelta(days=rng.randrange(5, 18))
        if i % 20 == 0:
            status = OrderStatus.CANCELLED
        elif arrived > now:
            status = OrderStatus.IN_TRANSIT
        else:
            status = OrderStatus.COMPLETED
            events.append(
                {
                    "order_id": f"ord_{tag}",
                    "shipment_number": 1,
                    "kind": CarrierEventKind.DELIVERED.value,
                    "at": arrived,
                    "location": "无锡市惠山区",
                    "reported_by": "usr_bench_carrier",
                }
            )
        orders.append(
            {
                "id": f"ord_{tag}",
                "contract_id": f"ctr_{tag}",
                "workflow_id": f"Order:ord_{tag}",
                "status": status.value,
                "dangerous_goods": i % 3 == 0,
                "paid_amount": amount if status is OrderStatus.COMPLETED else Decimal(0),
                **parties,
                **money,
            }
        )
    _insert(sessions, (Rfq, rfqs), (Contract, contracts), (Order, orders), (CarrierEvent, events))
    return len(events)
