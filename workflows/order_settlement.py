"""An order's settlement: the buyer's acceptance once every shipment is delivered (accepted
automatically after the window; a dispute goes to ops), the invoice, and the buyer's payments
until the order is paid in full. Part of ``workflows.order``."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from contracts.common import OPERATOR_ORG_ID, Money, Role, money_text
    from contracts.finance import OrderLoan, OrderLoanInput, RepaymentInput, loan_workflow_id
    from contracts.fulfilment import (
        CarrierEventKind,
        IssueInvoiceInput,
        OrderStatus,
        PaymentInput,
        PaymentReceipt,
        RecordPaymentInput,
    )
    from contracts.tasks import TaskSpec
    from workflows import policies
    from workflows.order_state import OrderState, refused

PAYMENT_TERMS = timedelta(days=30)
# Orders from before order loans never look for one: their histories have no such step.
LOANS_PATCH = "order-loans"


class Settlement(OrderState):
    """Acceptance, invoice and payment steps of the order workflow."""

    async def _accept(self) -> None:
        contract = self._contract
        deliveries = [s.events[CarrierEventKind.DELIVERED] for s in self._shipping.values()]
        proofs = tuple(d.proof_of_delivery.document_id for d in deliveries if d.proof_of_delivery)
        last = max(delivery.at for delivery in deliveries)
        delivered = "; ".join(
            f"shipment {d.shipment} on {d.at.isoformat()} at {d.location}" for d in deliveries
        )
        spec = TaskSpec(
            kind="order_acceptance",
            role=Role.BUYER,
            org_id=contract.buyer.org_id,
            subject_type="order",
            subject_id=self._order.order_id,
            title=f"Accept delivery of order {self._order.order_id}",
            summary=(
                f"Delivered: {delivered}. Accept, or dispute with the reason; accepted "
                f"automatically {self._order.auto_accept_after.days} days after the last delivery."
            ),
            outcomes=("accept", "dispute"),
            document_ids=proofs,
        )
        decision = await self.ask(
            "acceptance", spec, expires_at=last + self._order.auto_accept_after
        )
        if decision is None or decision.outcome == "accept":
            if decision is not None:
                self.reply(
                    decision, process_status=OrderStatus.INVOICED, message="accepted; invoiced"
                )
            return
        await self._set_status(OrderStatus.DISPUTED, reason=decision.comment)
        self.reply(decision, process_status=OrderStatus.DISPUTED, message="dispute opened with ops")
        resolution = await self.ask(
            "dispute",
            TaskSpec(
                kind="order_dispute",
                role=Role.OPS_SUPERVISOR,
                org_id=OPERATOR_ORG_ID,
                subject_type="order",
                subject_id=self._order.order_id,
                title=f"Resolve the dispute on order {self._order.order_id}",
                summary=f"The buyer disputes the delivery: {decision.comment}",
                outcomes=("accept",),
                document_ids=spec.document_ids,
            ),
        )
        if resolution is not None:
            self.reply(
                resolution, process_status=OrderStatus.INVOICED, message="resolved; invoiced"
            )

    async def _invoice(self) -> None:
        now = workflow.now()
        await policies.run(
            "issue_invoice",
            IssueInvoiceInput(
                order_id=self._order.order_id,
                contract=self._contract,
                accepted_at=now,
                due_on=(now + PAYMENT_TERMS).date(),
            ),
            policy=policies.DOCUMENT,
        )
        await self._set_status(OrderStatus.INVOICED)
        await self._notify(self._contract.buyer.org_id, Role.FINANCE, "order_invoiced", "invoiced")

    @workflow.update
    async def record_payment(self, payment: PaymentInput) -> PaymentReceipt:
        self._payments += 1
        self._paid += payment.amount.amount
        payment_id = f"{self._order.order_id}:payment-{self._payments}"
        await policies.run(
            "record_payment",
            RecordPaymentInput(
                order_id=self._order.order_id, payment_id=payment_id, payment=payment
            ),
        )
        if workflow.patched(LOANS_PATCH):
            await self._repay_loan(payment_id, payment)
        total = self._contract.total
        outstanding = max(Decimal(0), self._due() - self._paid)
        return PaymentReceipt(
            paid=Money(amount=self._paid, currency=total.currency),
            outstanding=Money(amount=outstanding, currency=total.currency),
            status=OrderStatus.COMPLETED if outstanding == 0 else OrderStatus.INVOICED,
        )

    async def _repay_loan(self, payment_id: str, payment: PaymentInput) -> None:
        """A financed order's payment repays its loan first (``workflows.loan``): passed on to
        the loan, keyed by the payment so a repeated signal is applied once."""
        loan = await policies.call(
            "loan_for_order",
            OrderLoanInput(order_id=self._order.order_id),
            OrderLoan,
            policy=policies.DATABASE,
        )
        if loan.loan_id is None:
            if loan.written_off_loan_id is not None:
                paid = money_text(payment.amount.amount, payment.amount.currency)
                await self._notify(
                    OPERATOR_ORG_ID,
                    Role.FINANCE,
                    "loan_recovery",
                    f"payment {payment_id} of {paid} came after loan "
                    f"{loan.written_off_loan_id} was written off: book it as a recovery",
                    key=f"loan_recovery:{payment_id}",
                )
            return
        repayment = RepaymentInput(
            loan_id=loan.loan_id,
            payment_id=payment_id,
            amount=payment.amount,
            paid_on=payment.paid_on,
            reference=payment.reference,
        )
        try:
            await workflow.get_external_workflow_handle(loan_workflow_id(loan.loan_id)).signal(
                "repay", repayment
            )
        except FailureError as closed:
            # The loan ended between the look-up and the signal (written off, say): the payment
            # stays the order's, recorded; ops hear of it rather than the update failing.
            await self._notify(
                OPERATOR_ORG_ID,
                Role.FINANCE,
                "loan_payment_unrouted",
                f"payment {payment_id} could not reach loan {loan.loan_id}: {closed}",
                key=f"loan_payment_unrouted:{payment_id}",
            )

    @record_payment.validator
    def validate_record_payment(self, payment: PaymentInput) -> None:
        total = self._contract.total
        if payment.actor.org_id != self._contract.buyer.org_id or not payment.actor.has_any(
            Role.FINANCE, Role.BUYER
        ):
            raise refused("only the buyer's finance may record its payments", "WrongRole")
        if self._status != OrderStatus.INVOICED:
            raise refused(f"the order is {self._status.value}, not awaiting payment", "NotReady")
        if payment.amount.currency != total.currency:
            raise refused(f"amount.currency: the invoice is in {total.currency}", "Malformed")
        if payment.amount.amount <= 0 or self._paid + payment.amount.amount > self._due():
            outstanding = self._due() - self._paid
            raise refused(
                f"amount.amount: must be above 0 and at most the outstanding {outstanding}",
                "Malformed",
            )
