"""Orders placed straight from the catalogue: the purchase process's messages.

A buyer orders in-stock offers of one supplier on their standard terms (the offers' price breaks,
logistics cost and VAT rate; delivered at the buyer's place, on the platform's standard payment
terms). The process records the purchase as an RFQ marked as a catalogue purchase, with the
offers' terms as the supplier's quote, reserves the offers' stock, and then runs the contract an
award of that quote would draft (``rules.awards.draft_contract``) through the same
``ContractWorkflow`` and ``OrderWorkflow``: approvals, signatures, fulfilment, e-waybill and cold
chain are the sourced path's own.
"""

from __future__ import annotations

from enum import StrEnum

from contracts.common import Frozen, Text
from contracts.sourcing import Party, Quantity, Quote, RfqInput

# rfqs.origin: how an RFQ row came to be.
SOURCED = "rfq"
CATALOGUE_PURCHASE = "catalogue"
# What a catalogue order is paid on: the platform's standard terms, as a contract states them.
STANDARD_PAYMENT_TERMS = "验收后30天付款 30 days after acceptance"


def catalogue_order_workflow_id(purchase_id: str) -> str:
    return f"CatalogueOrder:{purchase_id}"


def purchase_contract_id(purchase_id: str) -> str:
    """A purchase's one contract, named as an RFQ's first award's."""
    return f"{purchase_id}-C1"


def purchase_quote_id(purchase_id: str, supplier_org_id: str) -> str:
    """The quote the offers' terms are recorded as, named as an RFQ's first revision's."""
    return f"{purchase_id}:{supplier_org_id}:r1"


class PurchaseStatus(StrEnum):
    RECORDING = "recording"  # the process has started; nothing is held yet
    RESERVED = "reserved"  # stock held; the contract is being approved and signed
    REFUSED = "refused"  # the offers no longer covered the order: nothing was held
    ORDERED = "ordered"  # the contract is executed and its order has started
    FAILED = "failed"  # the contract was refused, lapsed or ended: the stock is given back


class PurchaseLine(Frozen):
    """One offer ordered: the RFQ line it became, at the revision the buyer saw."""

    line_id: Text
    offer_id: Text
    sku: Text
    offer_revision: int
    quantity: Quantity


class CatalogueOrderInput(Frozen):
    """The purchase: ``rfq`` its lines as an RFQ already closed, ``quote`` the offers' terms as
    the supplier's quote of every line, ``lines`` the offers whose stock is held."""

    purchase_id: Text
    rfq: RfqInput
    quote: Quote
    supplier: Party
    lines: tuple[PurchaseLine, ...]
    delivery_region: Text


class PurchaseRecorded(Frozen):
    """Whether the stock was held; when not, why (a refusal is a result, not a failure)."""

    reserved: bool
    reason: Text = ""


class SettlePurchaseInput(Frozen):
    """The purchase's end: ``FAILED`` gives the held stock back."""

    purchase_id: Text
    status: PurchaseStatus
    reason: Text = ""


class CatalogueOrderOutcome(Frozen):
    purchase_id: Text
    status: PurchaseStatus
    reason: Text = ""
    contract_id: Text | None = None
    order_id: Text | None = None
