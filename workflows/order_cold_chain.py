"""An order's cold shipments: a shipment whose lines carry a temperature range gets a trip.

The trip is recorded when the shipment is planned, so the carrier (or the supplier's logistics)
can assign loggers before pickup; the API refuses the pickup of a cold shipment with no logger.
At pickup the order starts the trip's workflow (``workflows.cold_chain``) as a child; at
delivery it tells it the goods arrived, and waits for the buyer's disposition before the
shipment counts as delivered for the order's acceptance. A claim's credit note comes off what
the buyer owes. Orders started before cold chain existed (no ``cold-chain`` marker) ship cold
goods as ordinary goods. Part of ``workflows.order``.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.cold_chain import (
        ColdChainInput,
        ColdChainOutcome,
        ColdLine,
        OpenTripInput,
        TripArrival,
        ZoneProfile,
        cold_chain_workflow_id,
        trip_id_for,
    )
    from contracts.fulfilment import CarrierEventKind, ColdChainResult
    from rules.cold_chain_zones import cold_lines
    from workflows import policies
    from workflows.cold_chain import ColdChainWorkflow
    from workflows.human_tasks import Abandoned
    from workflows.order_state import OrderState, Shipping

COLD_CHAIN_PATCH = "cold-chain"
ColdPlan = tuple[tuple[ZoneProfile, ...], tuple[ColdLine, ...]]


class ColdShipping(OrderState):
    """The cold-chain steps of the order workflow."""

    def _cold_plan(self, shipping: Shipping) -> ColdPlan | None:
        """The shipment's zones and cold lines, or None when it has no trip."""
        zones, lines = cold_lines(self._contract.lines, shipping.plan)
        return (zones, lines) if self._cold_chain and lines else None

    async def _open_trip(self, shipping: Shipping, plan: ColdPlan) -> None:
        zones, lines = plan
        await policies.run(
            "open_cold_trip",
            OpenTripInput(
                trip_id=trip_id_for(self._order.order_id, shipping.plan.number),
                order_id=self._order.order_id,
                shipment=shipping.plan.number,
                zones=zones,
                lines=lines,
            ),
        )

    async def _cold_trip(self, shipping: Shipping, plan: ColdPlan) -> None:
        """From pickup to the buyer's disposition; raises Abandoned if cancelled before pickup."""
        await workflow.wait_condition(
            lambda: CarrierEventKind.PICKED_UP in shipping.events or self.abandoned()
        )
        if CarrierEventKind.PICKED_UP not in shipping.events:
            raise Abandoned(f"shipment {shipping.plan.number}")
        contract = self._contract
        zones, lines = plan
        trip_id = trip_id_for(self._order.order_id, shipping.plan.number)
        pre_tax = contract.total.amount - contract.tax.amount
        trip = await workflow.start_child_workflow(
            ColdChainWorkflow.run,
            ColdChainInput(
                trip_id=trip_id,
                order_id=self._order.order_id,
                shipment=shipping.plan.number,
                zones=zones,
                lines=lines,
                currency=contract.total.currency,
                buyer_org_id=contract.buyer.org_id,
                supplier_org_id=contract.supplier.org_id,
                carrier_org_id=self._carrier_org_id,
                trip_start=shipping.events[CarrierEventKind.PICKED_UP].at,
                route=f"{contract.supplier.legal_name} → {contract.delivery_place}"[:400],
                tax_rate=contract.tax.amount / pre_tax if pre_tax > 0 else 0,
            ),
            id=cold_chain_workflow_id(trip_id),
        )
        await workflow.wait_condition(lambda: CarrierEventKind.DELIVERED in shipping.events)
        delivered = shipping.events[CarrierEventKind.DELIVERED]
        await trip.signal(ColdChainWorkflow.arrived, TripArrival(at=delivered.at))
        outcome: ColdChainOutcome = await trip
        if outcome.claim is not None:
            if outcome.claim.currency != contract.total.currency:  # the trip credits in it
                raise ApplicationError("a claim in another currency", non_retryable=True)
            self._credited += outcome.claim.amount
        shipping.cold_chain = ColdChainResult.model_validate(outcome.model_dump())
