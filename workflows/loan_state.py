"""A loan's state and its records: the one base of the loan workflow's parts (``workflows.loan``
and ``workflows.loan_money``), so each reads and writes the same state the same way."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.common import Money, Role
    from contracts.finance import (
        LoanInput,
        LoanOutcome,
        LoanStatus,
        LoanStatusInput,
        LoanTerms,
        LoanView,
        RepaymentInput,
        WithdrawInput,
    )
    from contracts.tasks import NotifyInput, TaskSpec
    from workflows import policies
    from workflows.human_tasks import HumanTaskWorkflow, process_key

# Days are the China day: the bank's value dates and the registry's are.
CHINA = timezone(timedelta(hours=8), "CST")


def china_time(day: date, moment: time = time(0, 0)) -> datetime:
    return datetime.combine(day, moment, tzinfo=CHINA)


def refused(message: str, kind: str) -> ApplicationError:
    """An update's refusal: the caller's to fix, never retried."""
    return ApplicationError(message, type=kind, non_retryable=True)


class LoanState(HumanTaskWorkflow):
    """The loan's state and its records."""

    def __init__(self, loan: LoanInput) -> None:
        super().__init__()
        self._loan = loan
        self._application = loan.application
        self._status = LoanStatus.APPLIED
        self._terms: LoanTerms | None = None
        self._due_on: date | None = None
        self._outstanding: Decimal | None = None
        self._withdrawal: WithdrawInput | None = None
        self._payments: list[RepaymentInput] = []
        self._seen_payments: set[str] = set()
        self._repaid = False
        self._written_off = False
        self._reason = ""  # why the loan ended, for its record and the supplier's notice
        self._payment_lock = asyncio.Lock()  # payments are applied one at a time

    @workflow.query
    def get_status(self) -> LoanView:
        outstanding = (
            None
            if self._outstanding is None
            else Money(amount=self._outstanding, currency=self._currency)
        )
        return LoanView(
            loan_id=self._loan_id,
            status=self._status,
            terms=self._terms,
            due_on=self._due_on,
            outstanding=outstanding,
            open_task_ids=self.open_task_ids(),
        )

    @property
    def _loan_id(self) -> str:
        return self._application.loan_id

    @property
    def _currency(self) -> str:
        return self._application.amount.currency

    def _contracted(self) -> LoanTerms:
        if self._terms is None:
            raise ApplicationError("the loan has no terms yet", non_retryable=True)
        return self._terms

    async def _set(
        self, status: LoanStatus, *, reason: str = "", approved_by: tuple[str, ...] = ()
    ) -> None:
        self._status = status
        await policies.run(
            "set_loan_status",
            LoanStatusInput(
                loan_id=self._loan_id,
                status=status,
                reason=reason,
                terms=self._terms,
                approved_by=approved_by,
            ),
        )

    def _task(self, kind: str, role: Role, org_id: str, **spec: Any) -> TaskSpec:
        """A task about this loan for ``role`` of ``org_id``."""
        return TaskSpec(
            kind=kind,
            role=role,
            org_id=org_id,
            subject_type="loan",
            subject_id=self._loan_id,
            **spec,
        )

    async def _tell_supplier(self, kind: str, message: str) -> None:
        await self.notify(
            NotifyInput(
                notification_id=process_key(kind),
                org_id=self._application.supplier_org_id,
                role=None,
                kind=kind.split(":")[0],
                subject_type="loan",
                subject_id=self._loan_id,
                message=f"Loan {self._loan_id}: {message}",
            )
        )

    async def _end(self, status: LoanStatus, reason: str) -> LoanOutcome:
        await self._set(status, reason=reason)
        await self._tell_supplier(f"loan_{status.value}", reason)
        return LoanOutcome(loan_id=self._loan_id, status=status, reason=reason)
