"""Order loans' commands: a supplier applies against one of its orders, and withdraws before
approval.

The application is checked at the edge on the same facts the process checks it on
(``db.loan_facts.eligibility``): every rule it breaks answers 422 at once, each naming its field.
An eligible one starts the loan's process (``workflows.loan``), which records the loan, asks the
buyer to confirm the receivable and finance to approve; the answer is 202 with the loan's URL,
which answers 404 for the moments until the process has recorded it. Decisions on the loan
(confirmation, approval, the offer, collections) go through ``POST /tasks/{task_id}/decision``;
reads are in ``api.routes.loans``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentActor, PlatformDep
from api.errors import invalid
from api.idempotency import keyed_digest
from api.params import IdPath
from api.platform import Platform
from api.routes import loan_access as access
from api.routes.order_commands import request_update_id
from contracts.common import OPERATOR_ORG_ID, Actor, Line, Money, OrgKind, Text
from contracts.finance import (
    ACTIVE_STATUSES,
    LoanApplication,
    LoanInput,
    LoanStatus,
    LoanView,
    WithdrawInput,
    loan_workflow_id,
)
from db.loan_facts import eligibility
from db.models import Order, Organisation
from rules.loan_terms import DEFAULT_PRODUCT

router = APIRouter(prefix="/loans", tags=["loans"])


class LoanAmount(Money):
    """The amount asked for: positive, in cents, in the order's currency."""

    amount: Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2)]


class ApplyRequest(BaseModel):
    """An application against one of your organisation's orders: the amount (within the advance
    rate of its unpaid value and your credit limit) and the term in days from the payout."""

    model_config = ConfigDict(extra="forbid")

    order_id: Annotated[Line, Field(min_length=1, max_length=80)]
    amount: LoanAmount
    term_days: Annotated[int, Field(ge=1, le=366)]
    purpose: Annotated[Text, Field(max_length=500)] = ""


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[Text, Field(min_length=1, max_length=500)]


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def apply_for_loan(
    body: ApplyRequest,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
    response: Response,
) -> access.LoanSummary:
    """Apply for a loan against an order (the supplier's supplier or finance role); answers 202
    with the loan's URL while the process records it and asks the buyer to confirm."""
    key = request.headers.get("idempotency-key")
    # A retried request (its first answer lost to a 5xx) finds the process it already started.
    loan_id = "loan-" + (keyed_digest(actor.user_id, key) if key else uuid.uuid4().hex)[:12]
    loan = await run_in_threadpool(_application, platform, body, actor, loan_id)
    await platform.start_process(
        "LoanWorkflow",
        loan,
        workflow_id=loan_workflow_id(loan_id),
        org_id=actor.org_id,
        subject_id=loan_id,
        retry_key=key,
    )
    response.headers["Location"] = f"/loans/{loan_id}"
    app = loan.application
    return access.LoanSummary(
        loan_id=loan_id,
        order_id=app.order_id,
        supplier_org_id=app.supplier_org_id,
        buyer_org_id=app.buyer_org_id,
        status=LoanStatus.APPLIED,
        amount=app.amount,
        term_days=app.term_days,
        due_on=None,
        outstanding=None,
        applied_at=app.applied_at,
        url=f"/loans/{loan_id}",
    )


def _application(platform: Platform, body: ApplyRequest, actor: Actor, loan_id: str) -> LoanInput:
    """The process's input, once the application breaks no rule; else 403 or 422."""
    if actor.org_id == OPERATOR_ORG_ID or not actor.has_any(*access.SUPPLIER_SIDE):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="requires a supplier's supplier or finance role"
        )
    with platform.sessions() as session:
        org = session.get(Organisation, actor.org_id)
        if org is None or org.kind != OrgKind.SUPPLIER:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail="only suppliers borrow against their orders"
            )
        order = session.get(Order, body.order_id)
        if order is None or order.supplier_org_id != actor.org_id:
            raise invalid("order_id", "no order of your organisation has this id")
        application = LoanApplication(
            loan_id=loan_id,
            order_id=order.id,
            supplier_org_id=order.supplier_org_id,
            buyer_org_id=order.buyer_org_id,
            amount=Money(amount=body.amount.amount, currency=body.amount.currency),
            term_days=body.term_days,
            purpose=body.purpose,
            applied_by=actor,
            applied_at=datetime.now(UTC),
        )
        check = eligibility(session, application)
    if check.problems:
        # Every rule broken at once, each naming its field.
        detail = [{"field": field, "rule": rule} for field, rule in check.problems]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)
    return LoanInput(
        application=application,
        offer_valid_days=DEFAULT_PRODUCT.offer_valid_days,
        two_approvers_above=DEFAULT_PRODUCT.two_approvers_above,
        reminder_days_before=DEFAULT_PRODUCT.reminder_days_before,
    )


@router.post("/{loan_id}/withdraw")
async def withdraw_loan(
    loan_id: IdPath,
    body: WithdrawRequest,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
) -> LoanView:
    """Withdraw the application before finance approves it, with the reason (the loan's
    supplier)."""
    if not body.reason.strip():
        raise invalid("reason", "a withdrawal must give its reason")
    workflow_id = await run_in_threadpool(_withdrawable, platform, actor, loan_id)
    withdrawal = WithdrawInput(reason=body.reason, actor=actor)
    view: LoanView = await platform.temporal.get_workflow_handle(workflow_id).execute_update(
        "withdraw_loan", withdrawal, result_type=LoanView, id=request_update_id(request, actor)
    )
    return view


def _withdrawable(platform: Platform, actor: Actor, loan_id: str) -> str:
    with platform.sessions() as session:
        row = access.visible_loan(session, actor, loan_id)
        if not access.borrows(actor, row):
            roles = " or ".join(r.value for r in access.SUPPLIER_SIDE)
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail=f"requires the loan's supplier's {roles} role"
            )
        if LoanStatus(row.status) not in ACTIVE_STATUSES:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=f"the loan is {row.status}")
        return row.workflow_id
