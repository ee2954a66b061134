"""Catalogue offers as an RFQ's quotes: compared, requested and ordered by the RFQ's own rules.

A buyer comparing a product's offers must see the figures an RFQ comparison would show for the
same prices, and an order placed from an offer must be the contract an award of that offer would
draft. So nothing here computes a price, a landed cost, a score or a rank: the selection is
expressed as an RFQ (one line a product, at the buyer's quantity and unit) and each offer as a
quote of it (one line, the offer's price breaks, stock, MOQ, lead time, logistics cost and VAT
rate; no freight, which offers do not state, and no transit beyond the lead time), and then
``rules.quotes.compare`` ranks them and ``rules.awards.draft_contract`` drafts the order's
contract, exactly as for a sourced RFQ.

Also here, pure: the RFQ line a product makes (its name, its specification written out from the
category's attributes, its UN number and packing group, and the temperature range of its
profile), and the ISO 3166-2:CN province codes a delivery region may name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from contracts.catalogue import AttributeSpec, OfferTerms
from contracts.catalogue_orders import (
    STANDARD_PAYMENT_TERMS,
    CatalogueOrderInput,
    PurchaseLine,
    purchase_quote_id,
)
from contracts.common import Actor
from contracts.sourcing import (
    Comparison,
    EvaluationWeights,
    Incoterm,
    InvitedSupplier,
    Party,
    Quote,
    QuoteLine,
    QuoteTerms,
    RfqInput,
    RfqLine,
    TemperatureRange,
)
from rules.cold_chain_profiles import PROFILES
from rules.provinces import WHOLE_MAINLAND
from rules.quotes import compare

# ISO 3166-2:CN province-level divisions (the 2017 letter codes): where a buyer's goods go.
# ``CN`` (the whole mainland) is an offer's delivery region, never a delivery address's.
# A frozen profile has no minimum; its range states the lowest a contract's range may (the
# ``Celsius`` bound), which rules.cold_chain_zones reads as the frozen zone.
FROZEN_FLOOR = Decimal(-80)
MAX_SPECIFICATION = 2000
MAX_TITLE = 200


@dataclass(frozen=True, slots=True)
class ProductFacts:
    """What a product line states: the product's description and its category's specs."""

    name: str
    brand: str
    model: str
    attributes: Mapping[str, str]
    specs: Sequence[AttributeSpec]
    un_number: str | None
    packing_group: str | None
    temperature_profile: str | None


@dataclass(frozen=True, slots=True)
class OfferFacts:
    """One offer as a quote needs it: its terms, with the stock held now (reservations by
    catalogue orders lower it below what the supplier listed)."""

    offer_id: str
    supplier_org_id: str
    revision: int
    terms: OfferTerms
    stock: Decimal


def line_id(place: int) -> str:
    """The RFQ line id of the selection's ``place``-th product (product ids are too long)."""
    return f"P{place + 1}"


def delivers_to(regions: Iterable[str], region: str) -> bool:
    return region in regions or WHOLE_MAINLAND in regions


def usual_unit(units: Iterable[str]) -> str | None:
    """The unit most offers state (the first in sort order of those tied), None for no offer: a
    product's quantity means it when the buyer names none, and offers in another unit are
    not compared, as an RFQ compares only quotes of its lines' units."""
    counts = Counter(units)
    if not counts:
        return None
    return min(counts, key=lambda unit: (-counts[unit], unit))


def specification(product: ProductFacts) -> str:
    """The product's brand, model and specifications as a contract line states them, each
    with its category's labels and unit: ``Bosch GSR 120; 电压 Voltage: 12 V``."""
    parts = [f"{product.brand} {product.model}"]
    labelled = {spec.key: spec for spec in product.specs}
    for spec in product.specs:
        if spec.key in product.attributes:
            unit = f" {spec.unit}" if spec.unit else ""
            value = product.attributes[spec.key]
            parts.append(f"{spec.label_zh} {spec.label_en}: {value}{unit}")
    # Attributes the category no longer names still describe the product.
    parts.extend(f"{k}: {v}" for k, v in sorted(product.attributes.items()) if k not in labelled)
    text = "; ".join(parts)
    return text if len(text) <= MAX_SPECIFICATION else text[: MAX_SPECIFICATION - 1] + "…"


def temperature_range(profile_name: str | None) -> TemperatureRange | None:
    """The range a line of a product with this temperature profile travels in."""
    if profile_name is None:
        return None
    profile = PROFILES[profile_name]
    high = profile.max_celsius
    low = profile.min_celsius if profile.min_celsius is not None else FROZEN_FLOOR
    assert high is not None  # every built-in profile has a maximum
    return TemperatureRange(min_celsius=low, max_celsius=high)


def product_line(place: int, product: ProductFacts, quantity: Decimal, unit: str) -> RfqLine:
    """The RFQ line the selection's ``place``-th product makes."""
    return RfqLine(
        line_id=line_id(place),
        description=product.name,
        specification=specification(product),
        quantity=quantity,
        unit=unit,
        un_number=product.un_number,
        packing_group=product.packing_group,
        temperature=temperature_range(product.temperature_profile),
    )


def offer_line(place: int, offer: OfferFacts) -> QuoteLine:
    """The quote line an offer makes for the selection's ``place``-th product."""
    terms = offer.terms
    return QuoteLine(
        line_id=line_id(place),
        unit_price=terms.list_price,  # below the first break's quantity, its price still applies
        price_breaks=terms.price_breaks,
        stock_available=offer.stock,
        min_order_quantity=terms.min_order_quantity,
        lead_time_days=terms.lead_time_days,
        logistics_cost=terms.logistics_cost,
    )


def offers_quote(
    *,
    quote_id: str,
    rfq_id: str,
    offers: Sequence[tuple[int, OfferFacts]],
    submitted_by: str,
    submitted_at: datetime,
    revision: int = 1,
) -> Quote:
    """One supplier's offers (each with its product's place) as its quote: one VAT rate and
    one validity, the earliest, as a quote states them (``ValueError`` on differing rates)."""
    rates = {offer.terms.tax_rate for _, offer in offers}
    if len(rates) != 1:
        raise ValueError("offers with different VAT rates make different quotes")
    first = offers[0][1]
    return Quote(
        quote_id=quote_id,
        rfq_id=rfq_id,
        supplier_org_id=first.supplier_org_id,
        revision=revision,
        terms=QuoteTerms(
            lines=tuple(offer_line(place, offer) for place, offer in offers),
            valid_until=min(offer.terms.valid_until for _, offer in offers),
            tax_rate=rates.pop(),
        ),
        submitted_by=submitted_by,
        submitted_at=submitted_at,
    )


@dataclass(frozen=True, slots=True)
class Selection:
    """What the buyer asks: the RFQ the selection makes, but for its suppliers and audience."""

    rfq_id: str
    buyer: Actor
    buyer_legal_name: str
    buyer_credit_code: str
    title: str
    lines: tuple[RfqLine, ...]
    delivery_place: str
    needed_by: date
    currency: str
    payment_terms: str
    weights: EvaluationWeights


def selection_rfq(
    selection: Selection, suppliers: Sequence[InvitedSupplier], *, at: datetime
) -> RfqInput:
    """The selection as an RFQ already closed at ``at``: delivered at the place (DAP), as an
    offer's delivery regions and logistics cost promise."""
    return RfqInput(
        rfq_id=selection.rfq_id,
        buyer_org_id=selection.buyer.org_id,
        buyer_legal_name=selection.buyer_legal_name,
        buyer_credit_code=selection.buyer_credit_code,
        title=selection.title,
        lines=selection.lines,
        delivery_place=selection.delivery_place,
        incoterm=Incoterm.DAP,
        needed_by=selection.needed_by,
        quote_deadline=at,
        currency=selection.currency,
        payment_terms=selection.payment_terms,
        weights=selection.weights,
        sealed=False,
        category=None,
        suppliers=tuple(suppliers),
        created_by=selection.buyer,
        created_at=at,
    )


def compare_offers(
    rfq: RfqInput,
    offers: Sequence[Sequence[OfferFacts]],
    *,
    as_of: date,
    supplier_scores: Mapping[str, Decimal],
    ineligible: Iterable[str],
    deducts_input_vat: bool,
) -> Comparison:
    """``rules.quotes.compare`` of ``rfq`` (``selection_rfq``) with each offer a quote of its
    product's line (``offers[i]``: the ``i``-th line's); a quote's id is its offer's id and its
    revision the offer's, so each compared offer names the offer it is."""
    quotes = []
    for place, line_offers in enumerate(offers):
        for offer in line_offers:
            quotes.append(
                offers_quote(
                    quote_id=offer.offer_id,
                    rfq_id=rfq.rfq_id,
                    offers=[(place, offer)],
                    submitted_by=offer.supplier_org_id,
                    submitted_at=rfq.created_at,
                    revision=offer.revision,
                )
            )
    return compare(
        rfq,
        quotes,
        as_of=as_of,
        supplier_scores=supplier_scores,
        ineligible=frozenset(ineligible),
        deducts_input_vat=deducts_input_vat,
    )


@dataclass(frozen=True, slots=True)
class Ordered:
    """One offer ordered from the catalogue, with its product and the buyer's quantity."""

    product: ProductFacts
    offer: OfferFacts
    sku: str
    quantity: Decimal


def earliest_arrival(ordered: Sequence[Ordered], *, today: date) -> date:
    """When the last of the offers arrives if ordered today: the longest lead time."""
    return today + timedelta(days=max(o.offer.terms.lead_time_days for o in ordered))


def titled(prefix: str, names: Iterable[str]) -> str:
    """A title from the products' names, cut to an RFQ title's length."""
    title = f"{prefix}: {'; '.join(names)}"
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"


def purchase(
    *,
    purchase_id: str,
    buyer: Actor,
    buyer_legal_name: str,
    buyer_credit_code: str,
    supplier: InvitedSupplier,
    ordered: Sequence[Ordered],
    delivery_place: str,
    delivery_region: str,
    needed_by: date | None,
    at: datetime,
) -> CatalogueOrderInput:
    """The purchase process's input: the order as an RFQ closed at ``at`` (one line a
    product, on the standard terms), the offers' terms as the supplier's quote of every line,
    and the offers whose stock it holds. Without ``needed_by``, the earliest arrival."""
    lines = tuple(
        product_line(place, o.product, o.quantity, o.offer.terms.unit)
        for place, o in enumerate(ordered)
    )
    rfq = selection_rfq(
        Selection(
            rfq_id=purchase_id,
            buyer=buyer,
            buyer_legal_name=buyer_legal_name,
            buyer_credit_code=buyer_credit_code,
            title=titled("目录订单 Catalogue order", (line.description for line in lines)),
            lines=lines,
            delivery_place=delivery_place,
            needed_by=needed_by or earliest_arrival(ordered, today=at.date()),
            currency=ordered[0].offer.terms.currency,
            payment_terms=STANDARD_PAYMENT_TERMS,
            weights=EvaluationWeights(),
        ),
        [supplier],
        at=at,
    )
    quote = offers_quote(
        quote_id=purchase_quote_id(purchase_id, supplier.org_id),
        rfq_id=purchase_id,
        offers=[(place, o.offer) for place, o in enumerate(ordered)],
        submitted_by=supplier.org_id,
        submitted_at=at,
    )
    return CatalogueOrderInput(
        purchase_id=purchase_id,
        rfq=rfq,
        quote=quote,
        supplier=Party(
            org_id=supplier.org_id,
            legal_name=supplier.legal_name,
            credit_code=supplier.credit_code,
        ),
        lines=tuple(
            PurchaseLine(
                line_id=line.line_id,
                offer_id=o.offer.offer_id,
                sku=o.sku,
                offer_revision=o.offer.revision,
                quantity=o.quantity,
            )
            for o, line in zip(ordered, lines, strict=True)
        ),
        delivery_region=delivery_region,
    )
