"""A dangerous-goods shipment's e-waybill, from the consignment list to the regulator's receipt.

The carrier makes the waybill (《危险货物道路运输安全管理办法》 art. 24): the consignor (the
supplier's logistics) declares the shipment's consignment list (托运清单); the order's carrier
makes the waybill from it with a vehicle, driver and escort of its registered fleet; the draft is
checked (what the consignor declared goes back to the consignor, what the carrier chose to the
carrier; warnings need a platform logistics-safety approval); the loader makes its five checks
(五必查) before loading; and the waybill is filed. A refusal anywhere sends it round again, and
the regulator's refusal goes back to both, since either part may be what it refuses.

Orders confirmed before carriers made waybills keep their path
(``workflows.order_supplier_waybill``): the supplier's logistics submits the whole draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.common import Role
    from contracts.consignment import (
        CHECK_ANSWERS,
        LOADING_CHECKS,
        LoadingCheckItem,
        RecordConsignmentInput,
        RecordLoadingCheckInput,
    )
    from contracts.fulfilment import (
        CheckWaybillInput,
        OrderStatus,
        Shipment,
        WaybillVerdict,
        shipment_id_for,
    )
    from contracts.tasks import DecideTaskInput, TaskSpec
    from workflows import policies
    from workflows.human_tasks import process_key
    from workflows.order_filing import WAYBILL_TASK, WaybillFiling
    from workflows.order_state import Shipping

CONSIGNMENT_TASK = "consignment_list"
LOADING_TASK = "loading_check"
# The task kinds whose choices ``waybill_choices_problem`` checks.
WAYBILL_TASKS = frozenset({WAYBILL_TASK, CONSIGNMENT_TASK, LOADING_TASK})


@dataclass
class _Round:
    """What the last round sent back, to whom; the consignment list kept while it stands."""

    consignment: str | None = None  # the recorded list's document id
    for_consignor: tuple[str, ...] = ()
    for_carrier: tuple[str, ...] = ()


class CarrierWaybill(WaybillFiling):
    """The carrier-made e-waybill steps of the order workflow (``workflows.order``)."""

    # -- the carrier makes it ------------------------------------------------------------

    async def _carrier_waybill(self, shipping: Shipping, waybill_number: str) -> None:
        """Until the regulator accepts a waybill the carrier made and the loader checked."""
        number = shipping.plan.number
        shipment_id = shipment_id_for(self._order.order_id, number)
        sent_back = _Round()
        attempt = 0
        while True:
            attempt += 1
            consignment = sent_back.consignment
            if consignment is None:
                consignment = await self._consignment(shipping, attempt, sent_back.for_consignor)
            await self._set_shipment_status(shipping, OrderStatus.AWAITING_WAYBILL)
            made = await self.ask(
                f"waybill-{number}-{attempt}",
                self._carrier_spec(shipping.plan, consignment, sent_back.for_carrier, attempt),
            )
            if made is None:  # the waybill task has no expiry; unreachable
                continue
            verdict = await policies.call(
                "check_waybill",
                CheckWaybillInput(
                    order_id=self._order.order_id,
                    shipment_id=shipment_id,
                    waybill_number=waybill_number,
                    document_id=made.choices["document_id"],
                    un_numbers=shipping.plan.un_numbers,
                    supplier_org_id=self._contract.supplier.org_id,
                    carrier_org_id=self._carrier_org_id,
                ),
                WaybillVerdict,
                policy=policies.VALIDATION,
            )
            carrier_fixes = (verdict.unreadable,) if verdict.unreadable else verdict.blocking
            if carrier_fixes or verdict.consignment:
                sent_back = _Round(
                    consignment=None if verdict.consignment else consignment,
                    for_consignor=verdict.consignment,
                    for_carrier=carrier_fixes,
                )
                back_to = "the consignor and the carrier" if verdict.consignment else "the carrier"
                self.reply(
                    made,
                    process_status=OrderStatus.AWAITING_WAYBILL,
                    message=f"waybill refused, back to {back_to}: "
                    + "; ".join((*verdict.consignment, *carrier_fixes)),
                )
                continue
            refused = await self._approved(
                shipping, waybill_number, verdict, made, attempt, OrderStatus.AWAITING_LOADING_CHECK
            )
            if refused:
                sent_back = _Round(consignment=consignment, for_carrier=refused)
                continue
            refused = await self._loading_check(shipping, waybill_number, verdict, attempt)
            if refused:
                sent_back = _Round(consignment=consignment, for_carrier=refused)
                continue
            result = await self._file(shipping, waybill_number, verdict)
            if not result.accepted:
                reasons = tuple(f"regulator: {r}" for r in result.reasons)
                sent_back = _Round(for_consignor=reasons, for_carrier=reasons)
                continue
            await self._seal(shipping, waybill_number, verdict, result, self._carrier_org_id)
            return

    async def _consignment(
        self, shipping: Shipping, attempt: int, problems: tuple[str, ...]
    ) -> str:
        """The consignment list's document id, once the consignor declared it."""
        number = shipping.plan.number
        await self._set_shipment_status(shipping, OrderStatus.AWAITING_CONSIGNMENT)
        while True:
            declared = await self.ask(
                f"consignment-{number}-{attempt}", self._consignment_spec(shipping.plan, problems)
            )
            if declared is not None:  # the consignment task has no expiry
                break
        document_id = declared.choices["document_id"]
        await policies.run(
            "record_consignment",
            RecordConsignmentInput(
                order_id=self._order.order_id, shipment=number, document_id=document_id
            ),
        )
        self.reply(
            declared,
            process_status=OrderStatus.AWAITING_WAYBILL,
            message="consignment list recorded; the carrier makes the waybill from it",
        )
        return document_id

    async def _loading_check(
        self, shipping: Shipping, waybill_number: str, verdict: WaybillVerdict, attempt: int
    ) -> tuple[str, ...]:
        """The loader's five checks, recorded; what failed, for the carrier to fix."""
        number = shipping.plan.number
        await self._set_shipment_status(shipping, OrderStatus.AWAITING_LOADING_CHECK)
        checked = await self.ask(
            f"loading-{number}-{attempt}", self._loading_spec(waybill_number, verdict)
        )
        if checked is None:  # the loading task has no expiry; unreachable
            return ("the loading check was not made",)
        answers = {item.value: checked.choices[item.value] for item in LOADING_CHECKS}
        failed = tuple(name for name, answer in answers.items() if answer == "no")
        await policies.run(
            "record_loading_check",
            RecordLoadingCheckInput(
                check_id=process_key(f"loading-{number}-{attempt}"),
                order_id=self._order.order_id,
                shipment=number,
                waybill_number=waybill_number,
                answers=answers,
                passed=not failed,
                note=checked.comment,
                checked_by=checked.actor,
                checked_at=checked.decided_at,
            ),
        )
        if failed:
            message = f"loading refused, failed checks: {', '.join(failed)}"
            note = f" ({checked.comment})" if checked.comment else ""
            self.reply(checked, process_status=OrderStatus.AWAITING_WAYBILL, message=message)
            return (f"the loader refused to load: {', '.join(failed)} failed{note}",)
        self.reply(checked, process_status=OrderStatus.FILING, message="loading checked; filing")
        return ()

    def _consignment_spec(self, shipment: Shipment, problems: tuple[str, ...]) -> TaskSpec:
        return self._submission_spec(
            CONSIGNMENT_TASK,
            self._contract.supplier.org_id,
            shipment,
            problems,
            title=f"{'the' if problems else 'Declare the'} consignment list of shipment "
            f"{shipment.number}",
            summary=f". Declare through POST /orders/{{id}}/shipments/{shipment.number}/"
            f"consignment; the carrier makes the e-waybill {shipment.waybill_number} from it.",
        )

    def _carrier_spec(
        self, shipment: Shipment, consignment: str, problems: tuple[str, ...], attempt: int
    ) -> TaskSpec:
        return self._submission_spec(
            WAYBILL_TASK,
            self._carrier_org_id or self._contract.supplier.org_id,
            shipment,
            problems,
            title=f"{'' if problems else 'Make '}e-waybill {shipment.waybill_number}",
            summary=f", from {self._contract.supplier.legal_name} to "
            f"{self._contract.delivery_place}. Make it from the consignment list with a vehicle, "
            "driver and escort of your fleet through POST /orders/{id}/shipments/"
            f"{shipment.number}/waybill/make.",
            document_ids=(consignment,),
            details={"revision": str(attempt)},
        )

    def _loading_spec(self, waybill_number: str, verdict: WaybillVerdict) -> TaskSpec:
        checks = ", ".join(item.value for item in LoadingCheckItem)
        return TaskSpec(
            kind=LOADING_TASK,
            role=Role.LOGISTICS,
            org_id=self._contract.supplier.org_id,
            subject_type="order",
            subject_id=self._order.order_id,
            title=f"Loading check (五必查) for e-waybill {waybill_number}",
            summary=(
                "Before loading, check and record: the vehicle's permits, the crew's "
                "qualifications, the vehicle and tank inspection, the goods against the waybill "
                "and the tank's approved media, through POST /orders/{id}/shipments/"
                f"<n>/loading-check (choices {checks}: yes, no, or n/a for tank_medium)."
            ),
            outcomes=("load", "refuse"),
            document_ids=(verdict.document_id,),
            details={"waybill_number": waybill_number},
        )

    def waybill_choices_problem(self, spec: TaskSpec, decision: DecideTaskInput) -> str | None:
        """The choices a decision of one of ``WAYBILL_TASKS`` must carry; None when fine."""
        if spec.kind != LOADING_TASK:
            if set(decision.choices) != {"document_id"}:
                return "choices: a submission gives exactly document_id, the stored draft"
            return None
        names = {item.value for item in LOADING_CHECKS}
        if set(decision.choices) != names:
            return f"choices: a loading check answers exactly {', '.join(sorted(names))}"
        for name, answer in decision.choices.items():
            allowed = CHECK_ANSWERS if name == LoadingCheckItem.TANK_MEDIUM else ("yes", "no")
            if answer not in allowed:
                return f"choices.{name}: must be one of {', '.join(allowed)}"
        passed = "no" not in decision.choices.values()
        if passed != (decision.outcome == "load"):
            return "outcome: load when every check passes, refuse when one fails"
        return None
