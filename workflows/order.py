"""One order, from an executed contract to payment.

Orchestrates: the supplier confirms (a task; unconfirmed after the window it escalates to
platform ops); stock is reserved; for dangerous goods the supplier's logistics submits the
e-waybill, which is checked (blocking violations come back to fix, warnings need a platform
logistics-safety approval) and filed with the regulator; a refusal by the regulator comes back to
fix with its reasons, and the shipment cannot move before the filing is accepted. The carrier
reports picked up, departed, arrived and delivered (departure and delivery are filed too); the
buyer accepts or disputes (accepted automatically after the window; a dispute goes to ops); the
invoice is issued and payments complete the order. Before pickup either party may cancel:
compensation runs in reverse (the filed waybill is voided, the stock released).

Updates: ``record_carrier_event``, ``record_payment``, ``cancel_order``, ``decide_task``
(inherited). Query: ``get_status``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.common import OPERATOR_ORG_ID, Money, Role, money_text
    from contracts.fulfilment import (
        CARRIER_EVENT_ORDER,
        CancelOrderInput,
        CarrierEventInput,
        CarrierEventKind,
        CarrierEventReceipt,
        CheckWaybillInput,
        FileStatusInput,
        FileWaybillInput,
        FilingResult,
        IssueInvoiceInput,
        OrderInput,
        OrderOutcome,
        OrderStatus,
        OrderStatusInput,
        OrderView,
        PaymentInput,
        PaymentReceipt,
        RecordEventInput,
        RecordPaymentInput,
        SealWaybillInput,
        StockInput,
        WaybillVerdict,
        waybill_number_for,
    )
    from contracts.tasks import DecideTaskInput, NotifyInput, TaskDecision, TaskSpec
    from workflows import policies
    from workflows.human_tasks import HumanTaskWorkflow, process_key

T = TypeVar("T")

WAYBILL_TASK = "waybill_submission"
PAYMENT_TERMS = timedelta(days=30)
SAFETY_REVIEW_ESCALATION = timedelta(hours=24)
# Until pickup the goods are still the supplier's to keep: cancelling is free of transport.
CANCELLABLE = {
    OrderStatus.AWAITING_CONFIRMATION,
    OrderStatus.CONFIRMED,
    OrderStatus.AWAITING_WAYBILL,
    OrderStatus.AWAITING_SAFETY_APPROVAL,
    OrderStatus.FILING,
    OrderStatus.READY_TO_DISPATCH,
}


class Cancelled(Exception):
    """Raised inside the process when a cancellation interrupts a wait."""

    def __init__(self, request: CancelOrderInput) -> None:
        super().__init__(request.reason)
        self.request = request


def _refused(message: str, kind: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


@workflow.defn
class OrderWorkflow(HumanTaskWorkflow):
    @workflow.init
    def __init__(self, order: OrderInput) -> None:
        super().__init__()
        self._order = order
        self._contract = order.contract
        self._status = OrderStatus.AWAITING_CONFIRMATION
        self._dangerous = any(line.un_number for line in order.contract.lines)
        self._waybill_number = waybill_number_for(order.order_id) if self._dangerous else None
        self._receipt: str | None = None
        self._events: dict[CarrierEventKind, CarrierEventInput] = {}
        self._paid = Decimal(0)
        self._payments = 0
        self._cancellation: CancelOrderInput | None = None
        self._stock_reserved = False
        # Set before the first filing attempt: an attempt cancelled in flight may still have
        # been accepted by the regulator, so compensation voids it (the void tolerates "unknown").
        self._filing_attempted = False

    @workflow.run
    async def run(self, order: OrderInput) -> OrderOutcome:
        await policies.run("record_order", order)
        try:
            confirmed = await self._unless_cancelled(self._confirm)
            if not confirmed:
                return await self._end(OrderStatus.REFUSED, "the supplier did not confirm")
            await policies.run(
                "reserve_stock", StockInput(order_id=order.order_id, contract=self._contract)
            )
            self._stock_reserved = True
            await self._set_status(OrderStatus.CONFIRMED)
            if self._waybill_number is not None:
                number = self._waybill_number
                await self._unless_cancelled(lambda: self._file_waybill(number))
            await self._set_status(OrderStatus.READY_TO_DISPATCH)
            await self._notify(
                self._contract.supplier.org_id, Role.LOGISTICS, "order_ready", "ready to dispatch"
            )
            await self._until(lambda: CarrierEventKind.PICKED_UP in self._events)
        except Cancelled as cancelled:
            return await self._compensate(cancelled.request)
        await self._until_event(CarrierEventKind.DELIVERED)
        await self._accept()
        await self._invoice()
        await workflow.wait_condition(lambda: self._paid >= self._contract.total.amount)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return await self._end(OrderStatus.COMPLETED, "paid in full")

    @workflow.query
    def get_status(self) -> OrderView:
        return OrderView(
            order_id=self._order.order_id,
            contract_id=self._contract.contract_id,
            status=self._status,
            dangerous_goods=self._dangerous,
            waybill_number=self._waybill_number,
            receipt_number=self._receipt,
            events=tuple(self._events),
            paid=Money(amount=self._paid, currency=self._contract.total.currency),
            open_task_ids=self.open_task_ids(),
        )

    # -- confirmation ---------------------------------------------------------------------

    async def _confirm(self) -> bool:
        contract = self._contract
        spec = TaskSpec(
            kind="order_confirmation",
            role=Role.SUPPLIER,
            org_id=contract.supplier.org_id,
            subject_type="order",
            subject_id=self._order.order_id,
            title=f"Confirm order {self._order.order_id}",
            summary=(
                f"{contract.buyer.legal_name}: {len(contract.lines)} line(s), "
                f"{money_text(contract.total.amount, contract.total.currency)}, deliver by "
                f"{contract.delivery_date.isoformat()} to {contract.delivery_place}."
            ),
            outcomes=("confirm", "reject"),
            details={"contract_id": contract.contract_id},
            escalate_after=self._order.confirm_within,
            escalate_to=Role.OPS_SUPERVISOR,
            escalate_to_org=OPERATOR_ORG_ID,
        )
        decision = await self.ask("confirm", spec)
        if decision is None:
            return False
        confirmed = decision.outcome == "confirm"
        self.reply(
            decision,
            process_status=OrderStatus.CONFIRMED if confirmed else OrderStatus.REFUSED,
            message="confirmed; stock is reserved" if confirmed else "order refused",
        )
        return confirmed

    # -- the e-waybill --------------------------------------------------------------------

    async def _file_waybill(self, waybill_number: str) -> None:
        """Until the regulator accepts a draft that passes the rules."""
        problems: tuple[str, ...] = ()
        attempt = 0
        while True:
            attempt += 1
            await self._set_status(OrderStatus.AWAITING_WAYBILL)
            decision = await self.ask(f"waybill-{attempt}", self._waybill_spec(problems))
            if decision is None:  # the submission task has no expiry; unreachable
                continue
            verdict = await policies.call(
                "check_waybill",
                CheckWaybillInput(
                    order_id=self._order.order_id,
                    waybill_number=waybill_number,
                    document_id=decision.choices["document_id"],
                ),
                WaybillVerdict,
                policy=policies.VALIDATION,
            )
            if verdict.unreadable or verdict.blocking:
                problems = (verdict.unreadable,) if verdict.unreadable else verdict.blocking
                self.reply(
                    decision,
                    process_status=OrderStatus.AWAITING_WAYBILL,
                    message="waybill refused, fix and submit again: " + "; ".join(problems),
                )
                continue
            if verdict.warnings:
                self.reply(
                    decision,
                    process_status=OrderStatus.AWAITING_SAFETY_APPROVAL,
                    message="waybill passed with warnings; logistics safety must approve: "
                    + "; ".join(verdict.warnings),
                )
                await self._set_status(OrderStatus.AWAITING_SAFETY_APPROVAL)
                approval = await self.ask(f"safety-{attempt}", self._safety_spec(verdict, decision))
                if approval is None or approval.outcome == "reject":
                    problems = (
                        f"logistics safety refused: {approval.comment if approval else ''}",
                    )
                    if approval is not None:
                        self.reply(
                            approval,
                            process_status=OrderStatus.AWAITING_WAYBILL,
                            message="sent back to fix",
                        )
                    continue
                self.reply(approval, process_status=OrderStatus.FILING, message="approved; filing")
            else:
                self.reply(
                    decision, process_status=OrderStatus.FILING, message="waybill passed; filing"
                )
            await self._set_status(OrderStatus.FILING)
            self._filing_attempted = True
            result = await policies.call(
                "file_waybill",
                FileWaybillInput(
                    order_id=self._order.order_id,
                    waybill_number=waybill_number,
                    document_id=verdict.document_id,
                ),
                FilingResult,
                policy=policies.EXTERNAL,
            )
            if not result.accepted:
                problems = tuple(f"regulator: {r}" for r in result.reasons)
                continue
            self._receipt = result.receipt_number
            await policies.run(
                "seal_waybill",
                SealWaybillInput(
                    order_id=self._order.order_id,
                    waybill_number=waybill_number,
                    document_id=verdict.document_id,
                    receipt_number=result.receipt_number,
                    filed_at=result.accepted_at or workflow.now(),
                ),
                policy=policies.DOCUMENT,
            )
            return

    def _waybill_spec(self, problems: tuple[str, ...]) -> TaskSpec:
        contract = self._contract
        items = ", ".join(f"{x.un_number} {x.description}" for x in contract.lines if x.un_number)
        fix = f" Fix: {'; '.join(problems)}." if problems else ""
        return TaskSpec(
            kind=WAYBILL_TASK,
            role=Role.LOGISTICS,
            org_id=contract.supplier.org_id,
            subject_type="order",
            subject_id=self._order.order_id,
            title=("Fix" if problems else "Submit") + f" e-waybill {self._waybill_number}",
            summary=f"Dangerous goods: {items}. Submit through POST /orders/{{id}}/waybill.{fix}",
            outcomes=("submit",),
            details={
                "waybill_number": self._waybill_number or "",
                "problems": "; ".join(problems),
            },
        )

    def _safety_spec(self, verdict: WaybillVerdict, submitted: TaskDecision) -> TaskSpec:
        return TaskSpec(
            kind="waybill_safety_review",
            role=Role.LOGISTICS,
            org_id=OPERATOR_ORG_ID,
            subject_type="order",
            subject_id=self._order.order_id,
            title=f"Approve e-waybill {self._waybill_number} with warnings",
            summary="; ".join(verdict.warnings),
            document_ids=(verdict.document_id,),
            details={"waybill_number": self._waybill_number or ""},
            excluded_user_ids=(submitted.actor.user_id,),
            escalate_after=SAFETY_REVIEW_ESCALATION,
        )

    def choices_problem(self, spec: TaskSpec, decision: DecideTaskInput) -> str | None:
        if spec.kind != WAYBILL_TASK:
            return super().choices_problem(spec, decision)
        if set(decision.choices) != {"document_id"}:
            return "choices: a submission gives exactly document_id, the stored draft"
        return None

    # -- transport ------------------------------------------------------------------------

    @workflow.update
    async def record_carrier_event(self, event: CarrierEventInput) -> CarrierEventReceipt:
        self._events[event.kind] = event
        await policies.run(
            "record_carrier_event", RecordEventInput(order_id=self._order.order_id, event=event)
        )
        if event.kind == CarrierEventKind.PICKED_UP:
            await self._set_status(OrderStatus.IN_TRANSIT)
        if self._waybill_number and event.kind in (
            CarrierEventKind.DEPARTED,
            CarrierEventKind.DELIVERED,
        ):
            await self._file_status(event.kind.value, event.at, event.note)
        if event.kind == CarrierEventKind.DELIVERED:
            await self._set_status(OrderStatus.DELIVERED)
        return CarrierEventReceipt(kind=event.kind, status=self._status)

    @record_carrier_event.validator
    def validate_record_carrier_event(self, event: CarrierEventInput) -> None:
        supplier = self._contract.supplier.org_id
        if event.actor.org_id != supplier or not event.actor.has_any(Role.LOGISTICS, Role.SUPPLIER):
            raise _refused("only the supplier's logistics may report carrier events", "WrongRole")
        if event.kind in self._events:
            raise _refused(f"kind: {event.kind.value} was already reported", "Malformed")
        if self._cancellation is not None or self._status not in (
            OrderStatus.READY_TO_DISPATCH,
            OrderStatus.IN_TRANSIT,
        ):
            raise _refused(
                f"kind: the order is {self._status.value}, not ready to move", "NotReady"
            )
        position = CARRIER_EVENT_ORDER.index(event.kind)
        missing = [k.value for k in CARRIER_EVENT_ORDER[:position] if k not in self._events]
        if missing:
            raise _refused(f"kind: {', '.join(missing)} must be reported first", "Malformed")
        if event.kind == CarrierEventKind.DELIVERED and event.proof_of_delivery is None:
            raise _refused("proof_of_delivery: a delivery needs its proof", "Malformed")

    async def _until_event(self, kind: CarrierEventKind) -> None:
        await workflow.wait_condition(lambda: kind in self._events)
        await workflow.wait_condition(workflow.all_handlers_finished)

    # -- acceptance, invoice, payment -----------------------------------------------------

    async def _accept(self) -> None:
        contract = self._contract
        delivered = self._events[CarrierEventKind.DELIVERED]
        spec = TaskSpec(
            kind="order_acceptance",
            role=Role.BUYER,
            org_id=contract.buyer.org_id,
            subject_type="order",
            subject_id=self._order.order_id,
            title=f"Accept delivery of order {self._order.order_id}",
            summary=(
                f"Delivered {delivered.at.isoformat()} at {delivered.location}. Accept, or "
                f"dispute with the reason; accepted automatically after "
                f"{self._order.auto_accept_after.days} days."
            ),
            outcomes=("accept", "dispute"),
            document_ids=(delivered.proof_of_delivery.document_id,)
            if delivered.proof_of_delivery
            else (),
        )
        decision = await self.ask(
            "acceptance", spec, expires_at=delivered.at + self._order.auto_accept_after
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
        await policies.run(
            "record_payment",
            RecordPaymentInput(
                order_id=self._order.order_id,
                payment_id=f"{self._order.order_id}:payment-{self._payments}",
                payment=payment,
            ),
        )
        total = self._contract.total
        outstanding = max(Decimal(0), total.amount - self._paid)
        return PaymentReceipt(
            paid=Money(amount=self._paid, currency=total.currency),
            outstanding=Money(amount=outstanding, currency=total.currency),
            status=OrderStatus.COMPLETED if outstanding == 0 else OrderStatus.INVOICED,
        )

    @record_payment.validator
    def validate_record_payment(self, payment: PaymentInput) -> None:
        total = self._contract.total
        if payment.actor.org_id != self._contract.buyer.org_id or not payment.actor.has_any(
            Role.FINANCE, Role.BUYER
        ):
            raise _refused("only the buyer's finance may record its payments", "WrongRole")
        if self._status != OrderStatus.INVOICED:
            raise _refused(f"the order is {self._status.value}, not awaiting payment", "NotReady")
        if payment.amount.currency != total.currency:
            raise _refused(f"amount.currency: the invoice is in {total.currency}", "Malformed")
        if payment.amount.amount <= 0 or self._paid + payment.amount.amount > total.amount:
            outstanding = total.amount - self._paid
            raise _refused(
                f"amount.amount: must be above 0 and at most the outstanding {outstanding}",
                "Malformed",
            )

    # -- cancellation ---------------------------------------------------------------------

    @workflow.update
    async def cancel_order(self, request: CancelOrderInput) -> OrderView:
        self._cancellation = request
        return self.get_status()

    @cancel_order.validator
    def validate_cancel_order(self, request: CancelOrderInput) -> None:
        parties = {self._contract.buyer.org_id, self._contract.supplier.org_id}
        if request.actor.org_id not in parties or not request.actor.has_any(
            Role.BUYER, Role.SUPPLIER
        ):
            raise _refused("only the buyer or the supplier may cancel", "WrongRole")
        if self._cancellation is not None or self._status not in CANCELLABLE:
            raise _refused(
                f"the order is {self._status.value}: it can be cancelled only before pickup",
                "NotReady",
            )

    async def _unless_cancelled(self, step: Callable[[], Awaitable[T]]) -> T:
        """Run ``step``; a cancellation interrupts it (its open task is closed as cancelled)."""
        running = asyncio.ensure_future(step())
        await workflow.wait_condition(lambda: running.done() or self._cancellation is not None)
        cancellation = self._cancellation
        if cancellation is None:
            return running.result()
        running.cancel()
        await workflow.wait([running])
        raise Cancelled(cancellation)

    async def _until(self, condition: Callable[[], bool]) -> None:
        await workflow.wait_condition(lambda: condition() or self._cancellation is not None)
        cancellation = self._cancellation
        if cancellation is not None and not condition():
            raise Cancelled(cancellation)

    async def _compensate(self, cancellation: CancelOrderInput) -> OrderOutcome:
        """Undo in reverse order what the order did: void the filing, release the stock."""
        if self._filing_attempted:
            await self._file_status("voided", workflow.now(), cancellation.reason)
        if self._stock_reserved:
            await policies.run(
                "release_stock", StockInput(order_id=self._order.order_id, contract=self._contract)
            )
        return await self._end(OrderStatus.CANCELLED, f"cancelled: {cancellation.reason}")

    # -- records --------------------------------------------------------------------------

    async def _file_status(self, status: str, at: datetime, note: str) -> None:
        if self._waybill_number is None:
            return
        await policies.run(
            "file_waybill_status",
            FileStatusInput(waybill_number=self._waybill_number, status=status, at=at, note=note),
            policy=policies.EXTERNAL,
        )

    async def _set_status(self, status: OrderStatus, *, reason: str = "") -> None:
        self._status = status
        await policies.run(
            "set_order_status",
            OrderStatusInput(
                order_id=self._order.order_id, status=status, at=workflow.now(), reason=reason
            ),
        )

    async def _end(self, status: OrderStatus, reason: str) -> OrderOutcome:
        await self._set_status(status, reason=reason)
        for org_id in (self._contract.buyer.org_id, self._contract.supplier.org_id):
            await self._notify(org_id, None, f"order_{status.value}", reason)
        return OrderOutcome(order_id=self._order.order_id, status=status, reason=reason)

    async def _notify(self, org_id: str, role: Role | None, kind: str, message: str) -> None:
        await self.notify(
            NotifyInput(
                notification_id=process_key(f"{kind}:{org_id}"),
                org_id=org_id,
                role=role,
                kind=kind,
                subject_type="order",
                subject_id=self._order.order_id,
                message=f"Order {self._order.order_id}: {message}",
            )
        )
