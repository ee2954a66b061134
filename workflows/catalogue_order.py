"""A purchase straight from the catalogue, from the buyer's click to a started order.

Orchestrates: record the purchase as an RFQ (a catalogue purchase) with the offers' terms as the
supplier's quote, reserving the offers' stock in the same transaction; stock no longer covering
the order (or an offer changed or gone) ends the purchase refused, holding nothing. Then the
contract an award of that quote would draft (``rules.awards.draft_contract``) runs as a child
``ContractWorkflow``, exactly as an RFQ's award runs it: the buyer's finance approvals above its
thresholds, both signatures, and once executed the ``OrderWorkflow`` with its fulfilment,
e-waybill and cold chain. A contract refused, lapsed or ended gives the stock back and ends the
purchase failed with the reason; but a contract's process that fails after its contract was
executed has started its order, which keeps the stock, and the purchase ends ordered (stopped
between the two, it holds the stock with no order: ops see it, and nothing is sold twice).
Purchases that took the failed branch before it was patched keep their failed outcome; the
settling activity kept their stock. A step that fails for good asks ops
(``workflows.policies``).

Queries: ``get_status`` (the RFQ's view, which the RFQ reads ask of the process owning an RFQ
row), ``get_purchase``. No updates but ``decide_task`` (inherited: ops' attention task).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from contracts.catalogue_orders import (
        CatalogueOrderInput,
        CatalogueOrderOutcome,
        PurchaseRecorded,
        PurchaseStatus,
        SettlePurchaseInput,
        purchase_contract_id,
    )
    from contracts.common import Role
    from contracts.fulfilment import order_id_for
    from contracts.sourcing import (
        ContractOutcome,
        ContractStatus,
        ContractWorkflowInput,
        RfqStatus,
        RfqStatusInput,
        RfqView,
        contract_workflow_id,
    )
    from contracts.tasks import NotifyInput
    from rules import awards as award_rules
    from workflows import policies
    from workflows.contract import ContractWorkflow
    from workflows.human_tasks import HumanTaskWorkflow, process_key

# A contract's process that failed is asked whether it executed its contract first (histories
# from before it end such a purchase failed; its settling keeps the stock all the same).
EXECUTED_CHECKED = "catalogue-order-executed-checked"

# The RFQ row's status while the purchase runs and when it ends.
_RFQ_STATUS = {
    PurchaseStatus.RECORDING: RfqStatus.AWARDING,
    PurchaseStatus.RESERVED: RfqStatus.AWARDING,
    PurchaseStatus.REFUSED: RfqStatus.CANCELLED,
    PurchaseStatus.ORDERED: RfqStatus.COMPLETED,
    PurchaseStatus.FAILED: RfqStatus.LAPSED,
}


@workflow.defn
class CatalogueOrderWorkflow(HumanTaskWorkflow):
    @workflow.init
    def __init__(self, purchase: CatalogueOrderInput) -> None:
        super().__init__()
        self._purchase = purchase
        self._status = PurchaseStatus.RECORDING
        self._contract_id: str | None = None
        self._reason = ""

    @workflow.run
    async def run(self, purchase: CatalogueOrderInput) -> CatalogueOrderOutcome:
        recorded = await policies.call(
            "record_catalogue_purchase", purchase, PurchaseRecorded, policy=policies.DATABASE
        )
        if not recorded.reserved:
            self._status, self._reason = PurchaseStatus.REFUSED, recorded.reason
            await self._notify("catalogue_order_refused", recorded.reason)
            return self.get_purchase()
        self._status = PurchaseStatus.RESERVED
        rfq = purchase.rfq
        terms = award_rules.draft_contract(
            contract_id=purchase_contract_id(purchase.purchase_id),
            rfq=rfq,
            quote=purchase.quote,
            line_ids=[line.line_id for line in rfq.lines],
            supplier=purchase.supplier,
            awarded_by=rfq.created_by.user_id,
            awarded_at=workflow.now(),
        )
        self._contract_id = terms.contract_id
        try:
            outcome: ContractOutcome = await workflow.execute_child_workflow(
                ContractWorkflow.run,
                ContractWorkflowInput(terms=terms),
                id=contract_workflow_id(terms.contract_id),
            )
        except ChildWorkflowError as failure:
            # Ended by ops, or failed for good. Before its order started, nothing more will
            # come of this contract; after (a later step ended, a termination), the order runs.
            if workflow.patched(EXECUTED_CHECKED) and await policies.call(
                "catalogue_contract_executed", terms.contract_id, bool, policy=policies.DATABASE
            ):
                order_id = order_id_for(terms.contract_id)
                return await self._end(PurchaseStatus.ORDERED, f"order {order_id} has started")
            cause = failure.cause
            return await self._end(
                PurchaseStatus.FAILED, f"contract {terms.contract_id} ended: {cause or failure}"
            )
        if outcome.status != ContractStatus.EXECUTED:
            return await self._end(
                PurchaseStatus.FAILED,
                f"contract {terms.contract_id} {outcome.status.value}: {outcome.reason}",
            )
        order_id = order_id_for(terms.contract_id)
        return await self._end(PurchaseStatus.ORDERED, f"order {order_id} has started")

    @workflow.query
    def get_status(self) -> RfqView:
        """The purchase as the RFQ it is recorded as (``GET /rfqs/{id}`` asks every RFQ's
        process this): closed at once, answered by its one supplier."""
        rfq = self._purchase.rfq
        return RfqView(
            rfq_id=rfq.rfq_id,
            status=_RFQ_STATUS[self._status],
            quote_deadline=rfq.quote_deadline,
            answered=(self._purchase.supplier.org_id,),
            contract_ids=(self._contract_id,) if self._contract_id else (),
            open_task_ids=self.open_task_ids(),
        )

    @workflow.query
    def get_purchase(self) -> CatalogueOrderOutcome:
        contract_id = self._contract_id
        ordered = self._status is PurchaseStatus.ORDERED and contract_id is not None
        return CatalogueOrderOutcome(
            purchase_id=self._purchase.purchase_id,
            status=self._status,
            reason=self._reason,
            contract_id=contract_id,
            order_id=order_id_for(contract_id) if ordered and contract_id else None,
        )

    async def _end(self, status: PurchaseStatus, reason: str) -> CatalogueOrderOutcome:
        """End its RFQ row, then settle the purchase (a failed one gives its stock back): who
        reads the purchase settled finds the RFQ ended too."""
        purchase = self._purchase
        self._status, self._reason = status, reason
        await policies.run(
            "set_rfq_status",
            RfqStatusInput(rfq_id=purchase.rfq.rfq_id, status=_RFQ_STATUS[status], reason=reason),
        )
        await policies.run(
            "settle_catalogue_purchase",
            SettlePurchaseInput(purchase_id=purchase.purchase_id, status=status, reason=reason),
        )
        if status is PurchaseStatus.FAILED:
            await self._notify("catalogue_order_failed", reason)
        return self.get_purchase()

    async def _notify(self, kind: str, reason: str) -> None:
        purchase = self._purchase
        await self.notify(
            NotifyInput(
                notification_id=process_key(kind),
                org_id=purchase.rfq.buyer_org_id,
                role=Role.BUYER,
                kind=kind,
                subject_type="catalogue_order",
                subject_id=purchase.purchase_id,
                message=f"Catalogue order {purchase.purchase_id}: {reason}.",
            )
        )
