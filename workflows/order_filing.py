"""What both e-waybill paths of an order share (``workflows.order_waybill``, the carrier's;
``workflows.order_supplier_waybill``, the older supplier's): the shipment as it goes, the
submission tasks, the logistics-safety approval of a draft with warnings, the filing with the
regulator and the sealing of the filed record."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.common import OPERATOR_ORG_ID, Role
    from contracts.fulfilment import (
        FileWaybillInput,
        FilingResult,
        OrderStatus,
        SealWaybillInput,
        Shipment,
        WaybillVerdict,
    )
    from contracts.tasks import TaskDecision, TaskSpec
    from workflows import policies
    from workflows.order_state import OrderState, Shipping

WAYBILL_TASK = "waybill_submission"
SAFETY_REVIEW_ESCALATION = timedelta(hours=24)


class WaybillFiling(OrderState):
    """The shared e-waybill steps."""

    def _submission_spec(
        self,
        kind: str,
        org_id: str,
        shipment: Shipment,
        problems: tuple[str, ...],
        *,
        title: str,
        summary: str,
        document_ids: tuple[str, ...] = (),
        details: dict[str, str] | None = None,
    ) -> TaskSpec:
        """A task asking for a shipment's submission (list or waybill); a fix names problems."""
        fix = f" Fix: {'; '.join(problems)}." if problems else ""
        return TaskSpec(
            kind=kind,
            role=Role.LOGISTICS,
            org_id=org_id,
            subject_type="order",
            subject_id=self._order.order_id,
            title=("Fix " if problems else "") + title,
            summary=f"Shipment {shipment.number}, dangerous goods: {self._goods(shipment)}"
            + f"{summary}{fix}",
            outcomes=("submit",),
            document_ids=document_ids,
            details={
                "waybill_number": shipment.waybill_number or "",
                "shipment": str(shipment.number),
                "problems": "; ".join(problems),
                **(details or {}),
            },
        )

    def _goods(self, shipment: Shipment) -> str:
        carried = {line.line_id: line.quantity for line in shipment.lines}
        return ", ".join(
            f"{x.un_number} {x.description} {carried[x.line_id]} {x.unit}"
            for x in self._contract.lines
            if x.un_number and x.line_id in carried
        )

    # -- shared by both paths ------------------------------------------------------------

    async def _approved(
        self,
        shipping: Shipping,
        waybill_number: str,
        verdict: WaybillVerdict,
        submitted: TaskDecision,
        attempt: int,
        then: OrderStatus = OrderStatus.FILING,
    ) -> tuple[str, ...]:
        """Logistics safety's approval of a draft with warnings: what it refused, or nothing.
        ``then`` is the status that follows an approval."""
        next_step = "filing" if then == OrderStatus.FILING else "the loading check is next"
        if not verdict.warnings:
            judged = "; ".join(x for x in (verdict.rulebook, verdict.small_load) if x)
            passed = f"waybill passed ({judged})" if judged else "waybill passed"
            self.reply(submitted, process_status=then, message=f"{passed}; {next_step}")
            return ()
        self.reply(
            submitted,
            process_status=OrderStatus.AWAITING_SAFETY_APPROVAL,
            message="waybill passed with warnings; logistics safety must approve: "
            + "; ".join(verdict.warnings),
        )
        await self._set_shipment_status(shipping, OrderStatus.AWAITING_SAFETY_APPROVAL)
        approval = await self.ask(
            f"safety-{shipping.plan.number}-{attempt}",
            self._safety_spec(waybill_number, verdict, submitted),
        )
        if approval is None or approval.outcome == "reject":
            if approval is not None:
                self.reply(
                    approval,
                    process_status=OrderStatus.AWAITING_WAYBILL,
                    message="sent back to fix",
                )
            return (f"logistics safety refused: {approval.comment if approval else ''}",)
        self.reply(approval, process_status=then, message=f"approved; {next_step}")
        return ()

    async def _file(
        self, shipping: Shipping, waybill_number: str, verdict: WaybillVerdict
    ) -> FilingResult:
        await self._set_shipment_status(shipping, OrderStatus.FILING)
        return await policies.call(
            "file_waybill",
            FileWaybillInput(
                order_id=self._order.order_id,
                waybill_number=waybill_number,
                document_id=verdict.document_id,
            ),
            FilingResult,
            policy=policies.EXTERNAL,
        )

    async def _seal(
        self,
        shipping: Shipping,
        waybill_number: str,
        verdict: WaybillVerdict,
        result: FilingResult,
        made_by_org_id: str | None,
    ) -> None:
        shipping.receipt = result.receipt_number
        await policies.run(
            "seal_waybill",
            SealWaybillInput(
                order_id=self._order.order_id,
                waybill_number=waybill_number,
                document_id=verdict.document_id,
                receipt_number=result.receipt_number,
                filed_at=result.accepted_at or workflow.now(),
                made_by_org_id=made_by_org_id,
            ),
            policy=policies.DOCUMENT,
        )

    def _safety_spec(
        self, waybill_number: str, verdict: WaybillVerdict, submitted: TaskDecision
    ) -> TaskSpec:
        return TaskSpec(
            kind="waybill_safety_review",
            role=Role.LOGISTICS,
            org_id=OPERATOR_ORG_ID,
            subject_type="order",
            subject_id=self._order.order_id,
            title=f"Approve e-waybill {waybill_number} with warnings",
            summary="; ".join(verdict.warnings),
            document_ids=(verdict.document_id,),
            details={"waybill_number": waybill_number},
            excluded_user_ids=(submitted.actor.user_id,),
            escalate_after=SAFETY_REVIEW_ESCALATION,
        )
