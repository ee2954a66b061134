"""A dangerous-goods shipment's e-waybill on orders started before carriers made them: the
supplier's logistics submits the whole draft; it is checked, approved when it warns, and filed.
No loading check is asked for. Kept so those orders, still running, end as they began."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.fulfilment import (
        CheckWaybillInput,
        OrderStatus,
        Shipment,
        WaybillVerdict,
        shipment_id_for,
    )
    from contracts.tasks import TaskSpec
    from workflows import policies
    from workflows.order_filing import WAYBILL_TASK, WaybillFiling
    from workflows.order_state import Shipping


class SupplierWaybill(WaybillFiling):
    """The supplier-submitted e-waybill path of the order workflow."""

    async def _file_waybill(self, shipping: Shipping, waybill_number: str) -> None:
        """Until the regulator accepts a draft the supplier submitted that passes the rules."""
        problems: tuple[str, ...] = ()
        number = shipping.plan.number
        attempt = 0
        while True:
            attempt += 1
            await self._set_shipment_status(shipping, OrderStatus.AWAITING_WAYBILL)
            decision = await self.ask(
                f"waybill-{number}-{attempt}", self._supplier_spec(shipping.plan, problems)
            )
            if decision is None:  # the submission task has no expiry; unreachable
                continue
            verdict = await policies.call(
                "check_waybill",
                CheckWaybillInput(
                    order_id=self._order.order_id,
                    shipment_id=shipment_id_for(self._order.order_id, number),
                    waybill_number=waybill_number,
                    document_id=decision.choices["document_id"],
                    un_numbers=shipping.plan.un_numbers,
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
            problems = await self._approved(shipping, waybill_number, verdict, decision, attempt)
            if problems:
                continue
            result = await self._file(shipping, waybill_number, verdict)
            if not result.accepted:
                problems = tuple(f"regulator: {r}" for r in result.reasons)
                continue
            await self._seal(shipping, waybill_number, verdict, result, None)
            return

    def _supplier_spec(self, shipment: Shipment, problems: tuple[str, ...]) -> TaskSpec:
        return self._submission_spec(
            WAYBILL_TASK,
            self._contract.supplier.org_id,
            shipment,
            problems,
            title=f"{'' if problems else 'Submit '}e-waybill {shipment.waybill_number}",
            summary=f". Submit through POST /orders/{{id}}/shipments/{shipment.number}/waybill.",
        )
