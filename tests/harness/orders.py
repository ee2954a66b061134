"""Orders for tests and benchmarks: parties, an executed contract and its order workflow, started
the way the contract workflow starts it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import ActivityEnvironment

from activities.sourcing_records import SourcingRecords
from contracts.common import Role
from contracts.fulfilment import OrderInput, OrderOutcome, order_id_for, order_workflow_id
from contracts.sourcing import (
    ContractStatus,
    ContractTerms,
    Quote,
    RecordContractInput,
    RfqLine,
)
from rules.awards import draft_contract
from storage.object_store import ObjectStore
from tests.harness import sourcing as s
from workflows.order import OrderWorkflow

# UN1789,Hydrochloric acid,8,,II,8,386;A3;B3;B15;B133;IB2;N41;T8;TP2,
HYDROCHLORIC_ACID = RfqLine(
    line_id="L3",
    description="盐酸 Hydrochloric acid 31%",
    quantity=Decimal(2000),
    unit="L",
    un_number="UN1789",
    packing_group="II",
)


@dataclass(frozen=True)
class Parties:
    buyer: s.Member
    finance: s.Member
    supplier: s.Member
    logistics: s.Member


def parties(sessions: sessionmaker[Session], store: ObjectStore) -> Parties:
    buyer_org = s.buyer_org(sessions)
    supplier_org = s.accredited_supplier(sessions, store)
    return Parties(
        buyer=s.member(sessions, buyer_org, Role.BUYER),
        finance=s.member(sessions, buyer_org, Role.FINANCE),
        supplier=s.member(sessions, supplier_org, Role.SUPPLIER),
        logistics=s.member(sessions, supplier_org, Role.LOGISTICS),
    )


def executed_contract(
    sessions: sessionmaker[Session],
    who: Parties,
    *,
    now: datetime,
    lines: tuple[RfqLine, ...],
) -> ContractTerms:
    """A contract for ``lines`` recorded as executed, as the contract workflow leaves it."""
    rfq = s.rfq(who.buyer, [who.supplier.org], now=now, rfq_lines=lines)
    quote = Quote(
        quote_id=f"{rfq.rfq_id}:{who.supplier.org.id}:r1",
        rfq_id=rfq.rfq_id,
        supplier_org_id=who.supplier.org.id,
        revision=1,
        terms=s.quote_terms(
            valid_until=(now + timedelta(days=30)).date(),
            line_ids=tuple(line.line_id for line in lines),
        ),
        submitted_by=who.supplier.actor.user_id,
        submitted_at=now,
    )
    terms = draft_contract(
        contract_id=f"{rfq.rfq_id}-C1",
        rfq=rfq,
        quote=quote,
        line_ids=[line.line_id for line in lines],
        supplier=s.party(who.supplier),
        awarded_by=who.buyer.actor.user_id,
        awarded_at=now,
    )
    records = SourcingRecords(sessions)
    env = ActivityEnvironment()
    env.run(records.record_rfq, rfq)
    env.run(
        records.record_contract,
        RecordContractInput(terms=terms, status=ContractStatus.EXECUTED, at=now),
    )
    return terms


async def start_order(
    client: Client, terms: ContractTerms, *, task_queue: str, **options: Any
) -> WorkflowHandle[OrderWorkflow, OrderOutcome]:
    order_id = order_id_for(terms.contract_id)
    return await client.start_workflow(
        OrderWorkflow.run,
        OrderInput(order_id=order_id, contract=terms, **options),
        id=order_workflow_id(order_id),
        task_queue=task_queue,
    )
