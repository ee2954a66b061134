"""One order, from an executed contract to payment.

Orchestrates: the supplier confirms with its shipment plan (a task; unconfirmed after the window
it escalates to platform ops); stock is reserved; the shipments then go their own ways at once.
The supplier names the order's carrier when it confirms (required for dangerous goods; the
carrier must be accredited for the goods' classes). A shipment with dangerous goods waits for its
e-waybill (``workflows.order_waybill``): the consignor declares the consignment list, the carrier
makes the waybill from it, it is checked, the loader checks the vehicle before loading, and it is
filed with the regulator; the shipment cannot move before the filing is accepted. The carrier
reports each shipment picked up, departed, arrived and delivered (departure and delivery are
filed too); an order without a carrier has the supplier's logistics report them. When
every shipment is delivered the buyer accepts or disputes (accepted automatically after the
window; a dispute goes to ops); the invoice is issued and payments complete the order. Until the
first pickup either party may cancel: compensation runs in reverse (every filed waybill is
voided, the stock released).

Orders started before carriers were parties (no ``carriers-make-waybills`` marker in their
history) keep their path: no carrier, the supplier submits the waybill and reports the events.

Updates: ``record_carrier_event``, ``record_payment``, ``cancel_order``, ``decide_task``
(inherited). Query: ``get_status``.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.common import OPERATOR_ORG_ID, Money, Role, money_text
    from contracts.consignment import AssignCarrierInput, CarrierAssignment
    from contracts.fulfilment import (
        CancelOrderInput,
        CarrierEventKind,
        OrderInput,
        OrderOutcome,
        OrderStatus,
        OrderView,
        RecordShipmentsInput,
        Shipment,
        StockInput,
    )
    from contracts.tasks import DecideTaskInput, TaskSpec
    from rules.shipments import plan_problem, plan_shipments
    from workflows import policies
    from workflows.human_tasks import Abandoned
    from workflows.order_cold_chain import COLD_CHAIN_PATCH, ColdShipping
    from workflows.order_settlement import Settlement
    from workflows.order_state import Shipping, refused
    from workflows.order_supplier_waybill import SupplierWaybill
    from workflows.order_transport import Transport
    from workflows.order_waybill import WAYBILL_TASKS, CarrierWaybill

CONFIRMATION_TASK = "order_confirmation"
CARRIER_CHOICE = "carrier"  # the confirmation's choice naming the carrier's organisation
CARRIERS_PATCH = "carriers-make-waybills"
# Until the first pickup the goods are still the supplier's to keep: cancelling is free of
# transport (the validator also checks that no shipment has been picked up).
CANCELLABLE = {
    OrderStatus.AWAITING_CONFIRMATION,
    OrderStatus.CONFIRMED,
    OrderStatus.AWAITING_CONSIGNMENT,
    OrderStatus.AWAITING_WAYBILL,
    OrderStatus.AWAITING_SAFETY_APPROVAL,
    OrderStatus.AWAITING_LOADING_CHECK,
    OrderStatus.FILING,
    OrderStatus.READY_TO_DISPATCH,
}


@workflow.defn
class OrderWorkflow(Transport, Settlement, CarrierWaybill, SupplierWaybill, ColdShipping):
    @workflow.init
    def __init__(self, order: OrderInput) -> None:
        super().__init__(order)

    @workflow.run
    async def run(self, order: OrderInput) -> OrderOutcome:
        # Decided once, before the first command: a replayed order from before keeps its path.
        self._carriers_make_waybills = workflow.patched(CARRIERS_PATCH)
        self._cold_chain = workflow.patched(COLD_CHAIN_PATCH)
        await policies.run("record_order", order)
        try:
            plan = await self._confirm()
            if plan is None:
                return await self._end(OrderStatus.REFUSED, "the supplier did not confirm")
            self._shipping = {shipment.number: Shipping(plan=shipment) for shipment in plan}
            await policies.run(
                "reserve_stock", StockInput(order_id=order.order_id, contract=self._contract)
            )
            self._stock_reserved = True
            await policies.run(
                "record_shipments", RecordShipmentsInput(order_id=order.order_id, shipments=plan)
            )
            await self._set_status(OrderStatus.CONFIRMED)
            await self._ship_all()
        except Abandoned:
            return await self._compensate()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._accept()
        await self._invoice()
        await workflow.wait_condition(lambda: self._paid >= self._due())
        await workflow.wait_condition(workflow.all_handlers_finished)
        return await self._end(OrderStatus.COMPLETED, "paid in full")

    @workflow.query
    def get_status(self) -> OrderView:
        return OrderView(
            order_id=self._order.order_id,
            contract_id=self._contract.contract_id,
            status=self._status,
            dangerous_goods=self._dangerous,
            shipments=tuple(shipping.view() for shipping in self._shipping.values()),
            paid=Money(amount=self._paid, currency=self._contract.total.currency),
            open_task_ids=self.open_task_ids(),
            credited=Money(amount=self._credited, currency=self._contract.total.currency),
        )

    # -- confirmation ---------------------------------------------------------------------

    async def _confirm(self) -> tuple[Shipment, ...] | None:
        """The supplier's shipment plan once it confirms; None when it refuses."""
        contract = self._contract
        lines = "; ".join(
            f"{x.line_id} {x.quantity} {x.unit} {x.description}" for x in contract.lines
        )
        spec = TaskSpec(
            kind=CONFIRMATION_TASK,
            role=Role.SUPPLIER,
            org_id=contract.supplier.org_id,
            subject_type="order",
            subject_id=self._order.order_id,
            title=f"Confirm order {self._order.order_id}",
            summary=(
                f"{contract.buyer.legal_name}: {len(contract.lines)} line(s), "
                f"{money_text(contract.total.amount, contract.total.currency)}, deliver by "
                f"{contract.delivery_date.isoformat()} to {contract.delivery_place}. Lines: "
                f"{lines}. Confirm as one shipment, or split it with choices "
                '{"<shipment>:<line>": quantity}, e.g. {"1:L1": "600", "2:L1": "400"}.'
            ),
            outcomes=("confirm", "reject"),
            details={"contract_id": contract.contract_id},
            escalate_after=self._order.confirm_within,
            escalate_to=Role.OPS_SUPERVISOR,
            escalate_to_org=OPERATOR_ORG_ID,
        )
        if self._cold_chain and any(line.temperature for line in contract.lines):
            spec = spec.model_copy(
                update={
                    "summary": spec.summary
                    + " Temperature-controlled lines travel with loggers; lines in different "
                    'profiles on one vehicle need as many zones, e.g. {"1:zones": "2"}.'
                }
            )
        if self._carriers_make_waybills:
            spec = spec.model_copy(
                update={
                    "summary": spec.summary
                    + (
                        f' Name the carrier with {{"{CARRIER_CHOICE}": "<organisation id>"}} '
                        "(GET /carriers): "
                        + ("required, the goods are dangerous." if self._dangerous else "optional.")
                    )
                }
            )
        attempt = 0
        while True:
            attempt += 1
            decision = await self.ask("confirm" if attempt == 1 else f"confirm-{attempt}", spec)
            if decision is None:
                return None
            if decision.outcome != "confirm":
                self.reply(decision, process_status=OrderStatus.REFUSED, message="order refused")
                return None
            problem = await self._assign_carrier(decision.choices.get(CARRIER_CHOICE))
            if problem:
                self.reply(
                    decision,
                    process_status=OrderStatus.AWAITING_CONFIRMATION,
                    message=f"not confirmed, choose another carrier: {problem}",
                )
                continue
            break
        plan = plan_shipments(self._order.order_id, contract.lines, _plan_choices(decision.choices))
        waybills = sum(1 for shipment in plan if shipment.waybill_number)
        maker = "for the carrier to make" if self._carriers_make_waybills else "to submit"
        self.reply(
            decision,
            process_status=OrderStatus.CONFIRMED,
            message=f"confirmed in {len(plan)} shipment(s), {waybills} with an e-waybill "
            f"{maker}; stock is reserved",
        )
        return plan

    async def _assign_carrier(self, carrier_org_id: str | None) -> str:
        """Why the chosen carrier cannot carry the goods, or "" once it is the order's."""
        if not self._carriers_make_waybills or not carrier_org_id:
            return ""
        assigned = await policies.call(
            "assign_carrier",
            AssignCarrierInput(
                order_id=self._order.order_id,
                carrier_org_id=carrier_org_id,
                un_numbers=tuple(x.un_number for x in self._contract.lines if x.un_number),
                on=self._contract.delivery_date,
            ),
            CarrierAssignment,
            policy=policies.DATABASE,
        )
        if not assigned.problem:
            self._carrier_org_id = carrier_org_id
        return assigned.problem

    # -- shipments ------------------------------------------------------------------------

    async def _ship_all(self) -> None:
        """Every shipment from its preparation to its delivery; each moves as soon as it can.
        A cancellation ends each at its next wait, never in the middle of a filing, so
        compensation starts once nothing is in flight."""
        ended = await asyncio.gather(
            *(self._ship(shipping) for shipping in self._shipping.values()),
            return_exceptions=True,
        )
        for outcome in ended:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _ship(self, shipping: Shipping) -> None:
        cold = self._cold_plan(shipping)
        if cold is not None:
            await self._open_trip(shipping, cold)
        number = shipping.plan.waybill_number
        if number is not None and self._carriers_make_waybills:
            await self._carrier_waybill(shipping, number)
        elif number is not None:
            await self._file_waybill(shipping, number)
        if self.abandoned():
            raise Abandoned(f"shipment {shipping.plan.number}")
        await self._set_shipment_status(shipping, OrderStatus.READY_TO_DISPATCH)
        for org_id in (self._contract.supplier.org_id, self._carrier_org_id):
            if org_id is None:
                continue
            await self._notify(
                org_id,
                Role.LOGISTICS,
                "shipment_ready",
                f"shipment {shipping.plan.number} is ready to dispatch",
                key=f"shipment_ready:{shipping.plan.number}",
            )
        if cold is not None:
            await self._cold_trip(shipping, cold)
            return
        await workflow.wait_condition(
            lambda: CarrierEventKind.DELIVERED in shipping.events or self.abandoned()
        )
        if CarrierEventKind.DELIVERED not in shipping.events:
            raise Abandoned(f"shipment {shipping.plan.number}")

    def choices_problem(self, spec: TaskSpec, decision: DecideTaskInput) -> str | None:
        if spec.kind == CONFIRMATION_TASK and decision.outcome == "confirm":
            return self._confirmation_problem(decision.choices)
        if spec.kind in WAYBILL_TASKS:
            return self.waybill_choices_problem(spec, decision)
        return super().choices_problem(spec, decision)

    def _confirmation_problem(self, choices: dict[str, str]) -> str | None:
        if not self._carriers_make_waybills:
            return plan_problem(self._contract.lines, choices)
        if self._dangerous and not choices.get(CARRIER_CHOICE):
            return (
                f"choices.{CARRIER_CHOICE}: an order with dangerous goods names its carrier, an "
                "accredited carrier organisation's id (GET /carriers)"
            )
        return plan_problem(self._contract.lines, _plan_choices(choices))

    # -- cancellation ---------------------------------------------------------------------

    @workflow.update
    async def cancel_order(self, request: CancelOrderInput) -> OrderView:
        if self._picked_up():  # a pickup accepted in the same activation, after validation
            raise refused(
                "the order is on its way: it can be cancelled only before pickup", "NotReady"
            )
        self._cancellation = request
        return self.get_status()

    @cancel_order.validator
    def validate_cancel_order(self, request: CancelOrderInput) -> None:
        parties = {self._contract.buyer.org_id, self._contract.supplier.org_id}
        if request.actor.org_id not in parties or not request.actor.has_any(
            Role.BUYER, Role.SUPPLIER
        ):
            raise refused("only the buyer or the supplier may cancel", "WrongRole")
        if self._cancellation is not None or self._status not in CANCELLABLE or self._picked_up():
            raise refused(
                f"the order is {self._status.value}: it can be cancelled only before pickup",
                "NotReady",
            )

    def abandoned(self) -> bool:
        return self._cancellation is not None

    async def _compensate(self) -> OrderOutcome:
        """Undo in reverse order what the order did: void the filings, release the stock."""
        cancellation = self._cancellation
        if cancellation is None:  # unreachable: only a cancellation abandons the order's steps
            raise ApplicationError("compensating an order nobody cancelled", non_retryable=True)
        for shipping in reversed(self._shipping.values()):
            if shipping.receipt is not None:
                await self._file_status(shipping, "voided", workflow.now(), cancellation.reason)
            shipping.status = OrderStatus.CANCELLED
            await self._record_shipment_status(shipping)
        if self._stock_reserved:
            await policies.run(
                "release_stock", StockInput(order_id=self._order.order_id, contract=self._contract)
            )
        return await self._end(OrderStatus.CANCELLED, f"cancelled: {cancellation.reason}")

    # -- records --------------------------------------------------------------------------

    async def _end(self, status: OrderStatus, reason: str) -> OrderOutcome:
        await self._set_status(status, reason=reason)
        for org_id in (self._contract.buyer.org_id, self._contract.supplier.org_id):
            await self._notify(org_id, None, f"order_{status.value}", reason)
        return OrderOutcome(order_id=self._order.order_id, status=status, reason=reason)


def _plan_choices(choices: dict[str, str]) -> dict[str, str]:
    """The confirmation's shipment plan: its choices but the carrier."""
    return {key: value for key, value in choices.items() if key != CARRIER_CHOICE}
