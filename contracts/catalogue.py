"""The catalogue: categories with typed specifications, products, and suppliers' standing offers.

Buyers used to source only through an RFQ. A catalogue lets them find a product, compare every
eligible supplier's offer for it side by side, and turn a selection into an RFQ or an order.

- Ops maintain the category tree: each category names the specifications its products carry
  (typed, with units) and the synonym groups buyers search with (螺丝刀 = 螺丝起子).
- A supplier lists a product with an offer in one ``ProductListing`` (by the API, or a row of a
  bulk import). The supplier's SKU identifies the offer, so listing it again updates it.
- A product is shared: two suppliers listing the same brand and model in a category offer the
  same product, which is what makes a side-by-side comparison from a product possible.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from contracts.common import Frozen, Line
from contracts.sourcing import Amount, Currency, PriceBreak, Text200

CategoryId = Annotated[Line, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")]
AttributeKey = Annotated[Line, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Sku = Annotated[Line, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")]
Label = Annotated[Line, Field(min_length=1, max_length=60)]
Name100 = Annotated[Line, Field(min_length=1, max_length=100)]
StockQuantity = Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=3)]
# Where an offer delivers: ISO 3166-2:CN province-level codes (CN-JS Jiangsu, CN-SH Shanghai:
# the 2017 letter codes), or CN for the whole mainland.
Region = Annotated[Line, Field(pattern=r"^CN(-[A-Z]{2})?$")]
TemperatureProfileName = Annotated[
    Line, Field(pattern=r"^(frozen|chilled|refrigerated|controlled_room|usp_controlled_room)$")
]
MAX_ATTRIBUTES = 20
MAX_PRICE_BREAKS = 10


class AttributeKind(StrEnum):
    TEXT = "text"
    NUMBER = "number"  # a Decimal in the attribute's unit
    CHOICE = "choice"  # one of ``choices``
    BOOLEAN = "boolean"


class AttributeSpec(Frozen):
    """One specification a category's products state, e.g. 长度 length, a number in mm."""

    key: AttributeKey
    label_zh: Label
    label_en: Label
    kind: AttributeKind
    unit: Annotated[Line, Field(min_length=1, max_length=12)] | None = None
    choices: tuple[Label, ...] = Field(default=(), max_length=100)
    required: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> AttributeSpec:
        if self.kind is AttributeKind.CHOICE and not self.choices:
            raise ValueError("a choice attribute needs its choices")
        if self.kind is not AttributeKind.CHOICE and self.choices:
            raise ValueError("only a choice attribute has choices")
        if self.unit is not None and self.kind is not AttributeKind.NUMBER:
            raise ValueError("only a number attribute has a unit")
        return self


SynonymGroup = Annotated[tuple[Label, ...], Field(min_length=2, max_length=20)]


class CategoryInput(Frozen):
    """A category as ops define it; ``parent_id`` None for a top-level category."""

    category_id: CategoryId
    parent_id: CategoryId | None = None
    name_zh: Label
    name_en: Label
    attributes: tuple[AttributeSpec, ...] = Field(default=(), max_length=MAX_ATTRIBUTES)
    synonyms: tuple[SynonymGroup, ...] = Field(default=(), max_length=500)

    @model_validator(mode="after")
    def _unique_keys(self) -> CategoryInput:
        keys = [spec.key for spec in self.attributes]
        if len(set(keys)) != len(keys):
            raise ValueError("attribute keys must be unique within a category")
        return self


class OfferTerms(Frozen):
    """A supplier's standing offer for a product: the price breaks make the price at a
    quantity, as in a quote (rules.landed_cost_cents.applicable_price)."""

    currency: Currency
    unit: Annotated[Line, Field(min_length=1, max_length=20)]
    price_breaks: tuple[PriceBreak, ...] = Field(min_length=1, max_length=MAX_PRICE_BREAKS)
    stock: StockQuantity
    min_order_quantity: StockQuantity = Decimal(0)
    lead_time_days: Annotated[int, Field(ge=0, le=365)]
    delivery_regions: tuple[Region, ...] = Field(min_length=1, max_length=40)
    valid_until: date
    # Standard terms: what an order placed straight from the catalogue inherits.
    logistics_cost: Amount = Decimal(0)
    tax_rate: Annotated[Decimal, Field(ge=0, le=1, max_digits=5, decimal_places=4)] = Decimal(0)

    @model_validator(mode="after")
    def _ascending_breaks(self) -> OfferTerms:
        quantities = [b.min_quantity for b in self.price_breaks]
        if quantities != sorted(quantities) or len(set(quantities)) != len(quantities):
            raise ValueError("price_breaks must ascend strictly by min_quantity")
        return self

    @property
    def list_price(self) -> Decimal:
        """The unit price at the smallest quantity: what a buyer sees before stating one."""
        return self.price_breaks[0].unit_price


class ProductListing(Frozen):
    """What a supplier lists: the product (matched by category, brand and model) and its offer.

    ``attributes`` are as the supplier wrote them; ``rules.catalogue_listing`` checks them
    against the category and gives them their canonical form (numbers in the attribute's unit).
    """

    sku: Sku
    category_id: CategoryId
    name: Text200
    brand: Name100
    model: Name100
    attributes: dict[AttributeKey, Annotated[Line, Field(max_length=200)]] = Field(
        default_factory=dict, max_length=MAX_ATTRIBUTES
    )
    un_number: Annotated[Line, Field(pattern=r"^UN\d{4}$")] | None = None
    packing_group: Annotated[Line, Field(pattern=r"^(I|II|III)$")] | None = None
    temperature_profile: TemperatureProfileName | None = None
    offer: OfferTerms
