"""Sourcing: requests for quotation, quotes, the comparison, awards and e-contracts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from contracts.common import Actor, DocumentRef, Frozen, Line, Money, Text

# Amounts: trillion-scale with up to 4 decimals (unit prices of bulk chemicals go below a cent).
Amount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=15, decimal_places=3)]
Weight = Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3)]
Currency = Annotated[Text, Field(pattern=r"^[A-Z]{3}$")]
Text200 = Annotated[Line, Field(min_length=1, max_length=200)]
Celsius = Annotated[Decimal, Field(ge=-80, le=60, max_digits=5, decimal_places=1)]


def rfq_workflow_id(rfq_id: str) -> str:
    return f"Rfq:{rfq_id}"


def contract_workflow_id(contract_id: str) -> str:
    return f"Contract:{contract_id}"


class Incoterm(StrEnum):
    EXW = "EXW"
    FCA = "FCA"
    CPT = "CPT"
    CIP = "CIP"
    DAP = "DAP"
    DPU = "DPU"
    DDP = "DDP"
    FAS = "FAS"
    FOB = "FOB"
    CFR = "CFR"
    CIF = "CIF"


class RfqStatus(StrEnum):
    OPEN = "open"  # quoting until the deadline
    EVALUATING = "evaluating"  # closed to quotes, awaiting the buyer's award
    AWARDING = "awarding"  # contracts being approved and signed
    COMPLETED = "completed"  # every line awarded to an executed contract or closed
    LAPSED = "lapsed"  # no quote by the deadline, or no award in time
    CANCELLED = "cancelled"


class QuoteStatus(StrEnum):
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    DECLINED = "declined"


class ContractStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    AWAITING_SIGNATURES = "awaiting_signatures"
    EXECUTED = "executed"  # every party signed; awaiting fulfilment until that workflow exists
    REJECTED = "rejected"  # finance refused the award
    LAPSED = "lapsed"  # a party did not sign in time, or declined to sign


class TemperatureRange(Frozen):
    """A line's range, and optionally its product's own tolerances for the cold chain.

    Each option left out (None) takes the zone's default (rules.cold_chain_zones.zone_for), so
    contracts stored before the options existed decode and mean what they meant.
    """

    min_celsius: Celsius
    max_celsius: Celsius
    warning_margin: Annotated[Decimal, Field(ge=0, le=5, max_digits=3, decimal_places=2)] | None = (
        None
    )
    single_tolerance_minutes: Annotated[int, Field(ge=0, le=10080)] | None = None  # a week
    stability_budget_minutes: Annotated[int, Field(ge=0, le=43200)] | None = None  # 30 days
    max_silence_minutes: Annotated[int, Field(ge=1, le=1440)] | None = None
    activation_energy_kj_per_mol: (
        Annotated[Decimal, Field(ge=10, le=300, max_digits=6, decimal_places=3)] | None
    ) = None  # ΔH for mean kinetic temperature; None: 83.144 kJ/mol
    mkt_max_celsius: Celsius | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TemperatureRange:
        if self.min_celsius > self.max_celsius:
            raise ValueError("min_celsius must not exceed max_celsius")
        return self


class RfqLine(Frozen):
    line_id: Annotated[Text, Field(pattern=r"^[A-Za-z0-9_-]{1,20}$")]
    description: Text200
    specification: Text = Field(default="", max_length=2000)
    quantity: Quantity
    unit: Annotated[Line, Field(min_length=1, max_length=20)]
    target_unit_price: Amount | None = None
    un_number: Annotated[Text, Field(pattern=r"^UN\d{4}$")] | None = None
    packing_group: Annotated[Text, Field(pattern=r"^(I|II|III)$")] | None = None
    temperature: TemperatureRange | None = None


class EvaluationWeights(Frozen):
    """Relative weights; the comparison normalises them to sum to one."""

    price: Weight = Decimal(60)
    lead_time: Weight = Decimal(25)
    supplier_score: Weight = Decimal(15)

    @model_validator(mode="after")
    def _not_all_zero(self) -> EvaluationWeights:
        if self.price + self.lead_time + self.supplier_score == 0:
            raise ValueError("at least one weight must be above zero")
        return self


class InvitedSupplier(Frozen):
    """A supplier admitted to quote, with its standing when the RFQ opened."""

    org_id: Text
    legal_name: Text
    credit_code: Text
    score: Decimal


class RfqInput(Frozen):
    rfq_id: Text
    buyer_org_id: Text
    buyer_legal_name: Text
    buyer_credit_code: Text
    title: Text200
    lines: tuple[RfqLine, ...]
    delivery_place: Text200
    incoterm: Incoterm
    needed_by: date
    quote_deadline: datetime
    currency: Currency
    payment_terms: Text
    weights: EvaluationWeights
    sealed: bool
    category: Text | None
    suppliers: tuple[InvitedSupplier, ...]
    created_by: Actor
    created_at: datetime


class PriceBreak(Frozen):
    """From ``min_quantity`` upwards the unit price is ``unit_price``."""

    min_quantity: Quantity
    unit_price: Amount


class QuoteLine(Frozen):
    line_id: Text
    unit_price: Amount
    price_breaks: tuple[PriceBreak, ...] = Field(default=(), max_length=10)
    stock_available: Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=3)]
    min_order_quantity: Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=3)] = Decimal(
        0
    )
    lead_time_days: Annotated[int, Field(ge=0, le=365)]
    logistics_cost: Amount = Decimal(0)
    transit_days: Annotated[int, Field(ge=0, le=120)] = 0


class QuoteTerms(Frozen):
    """What a supplier sends, the same for a first quote and a revision."""

    lines: tuple[QuoteLine, ...] = Field(min_length=1)
    valid_until: date
    freight: Amount = Decimal(0)
    tax_rate: Annotated[Decimal, Field(ge=0, le=1, max_digits=5, decimal_places=4)] = Decimal(0)
    # VAT on the freight when it is invoiced as a transport service (9% since 2019); None: the
    # freight is part of the sale of goods and taxed at ``tax_rate`` (rules/landed_cost.py).
    freight_tax_rate: (
        Annotated[Decimal, Field(ge=0, le=1, max_digits=5, decimal_places=4)] | None
    ) = None
    delivery_date: date | None = None
    note: Text = Field(default="", max_length=2000)
    attachments: tuple[DocumentRef, ...] = Field(default=(), max_length=10)


class SubmitQuoteInput(Frozen):
    """The ``submit_quote`` update. ``replaces_revision`` is the revision the supplier saw:
    None for a first quote; a stale one is refused, so concurrent revisions cannot overwrite
    each other unseen. A suspension after the quote still counts: the RFQ re-reads every
    standing when it closes."""

    terms: QuoteTerms
    replaces_revision: int | None = None
    actor: Actor
    # The supplier's accreditation status as the API read it just now, like ``actor`` asserted
    # by the caller; the validator refuses anything but ``accredited``.
    standing: Text


class DeclineInput(Frozen):
    reason: Text = Field(default="", max_length=2000)
    actor: Actor


class Quote(Frozen):
    quote_id: Text
    rfq_id: Text
    supplier_org_id: Text
    revision: int
    terms: QuoteTerms
    submitted_by: Text
    submitted_at: datetime


class QuoteReceipt(Frozen):
    quote_id: Text
    revision: int
    status: QuoteStatus
    submitted_at: datetime


class ExtendDeadlineInput(Frozen):
    new_deadline: datetime
    actor: Actor


class BuyerActionInput(Frozen):
    """Close early or cancel: the buyer's own organisation only."""

    reason: Text = Field(default="", max_length=2000)
    actor: Actor


class RfqView(Frozen):
    rfq_id: Text
    status: RfqStatus
    quote_deadline: datetime
    answered: tuple[Text, ...]
    contract_ids: tuple[Text, ...]
    open_task_ids: tuple[Text, ...]


# -- comparison --------------------------------------------------------------------------


class QuoteComparison(Frozen):
    """One supplier's offer for one line, as the buyer compares it."""

    supplier_org_id: Text
    quote_id: Text
    revision: int
    unit_price: Decimal  # after the applicable price break
    goods: Decimal
    logistics: Decimal
    freight_share: Decimal
    tax: Decimal  # the VAT charged
    # The VAT a general-taxpayer buyer deducts; landed_cost is net of it. 0 in comparisons made
    # before the buyer's tax profile existed, whose landed costs include VAT.
    deductible_tax: Decimal = Decimal(0)
    landed_cost: Decimal
    landed_unit_cost: Decimal
    stock_covers: bool
    moq_fits: bool
    arrival: date
    days_late: int  # 0 when it arrives by the needed-by date
    supplier_score: Decimal
    score: Decimal  # weighted, 0-100
    rank: int  # 1 is best; ineligible offers rank after every eligible one
    eligible: bool
    explanation: Text


class LineComparison(Frozen):
    line_id: Text
    description: Text
    quantity: Decimal
    unit: Text
    offers: tuple[QuoteComparison, ...]  # best first


class Comparison(Frozen):
    rfq_id: Text
    currency: Text
    as_of: date
    # True: landed costs are net of the input VAT the buyer deducts (a general taxpayer);
    # False: including VAT (a small-scale taxpayer, and every comparison made before this field).
    deducts_input_vat: bool = False
    lines: tuple[LineComparison, ...]


# -- award and approvals -----------------------------------------------------------------


class ApprovalLevel(Frozen):
    """Contracts above ``above`` (in the chain's currency) need one more finance approval."""

    above: Amount
    title: Line = Field(default="", max_length=100)


class ApprovalChain(Frozen):
    currency: Currency
    levels: tuple[ApprovalLevel, ...] = Field(max_length=5)

    @model_validator(mode="after")
    def _ascending(self) -> ApprovalChain:
        amounts = [level.above for level in self.levels]
        if amounts != sorted(amounts) or len(set(amounts)) != len(amounts):
            raise ValueError("levels must be in strictly ascending order of amount")
        return self


DEFAULT_APPROVAL_CHAIN = ApprovalChain(
    currency="CNY", levels=(ApprovalLevel(above=Decimal(100_000), title="finance approval"),)
)


class FxRate(Frozen):
    """One unit of ``base`` costs ``rate`` units of ``quote``, as recorded at ``as_of``."""

    base: Currency
    quote: Currency
    rate: Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=8)]
    as_of: date
    source: Text


class ApprovalPolicyInput(Frozen):
    buyer_org_id: Text
    currency: Currency


class ApprovalPolicy(Frozen):
    """The buyer's chain and, when the contract currency differs, the rate to convert at."""

    chain: ApprovalChain
    rate: FxRate | None


class ContractLine(Frozen):
    line_id: Text
    description: Text
    specification: Text
    quantity: Decimal
    unit: Text
    unit_price: Decimal
    amount: Decimal
    un_number: Text | None = None
    packing_group: Text | None = None
    temperature: TemperatureRange | None = None


class Party(Frozen):
    org_id: Text
    legal_name: Text
    credit_code: Text


class ContractTerms(Frozen):
    """Everything the e-contract states; its PDF is rendered from this alone."""

    contract_id: Text
    rfq_id: Text
    buyer: Party
    supplier: Party
    quote_id: Text
    quote_revision: int
    lines: tuple[ContractLine, ...]
    goods_total: Money
    logistics: Money
    freight: Money
    tax: Money
    total: Money
    delivery_place: Text
    incoterm: Incoterm
    delivery_date: date
    payment_terms: Text
    awarded_by: Text
    awarded_at: datetime


class ContractWorkflowInput(Frozen):
    terms: ContractTerms
    sign_within: timedelta = timedelta(days=5)


class ApprovalRecord(Frozen):
    level: int
    threshold: Money
    approved_by: Text
    approved_at: datetime


class Signature(Frozen):
    """A signature binds signer, organisation, time and document hash under the org's key."""

    contract_id: Text
    document_sha256: Text
    signer_user_id: Text
    signer_org_id: Text
    signer_credit_code: Text
    signed_at: datetime
    key_id: Text
    algorithm: Text = "Ed25519"
    value: Text  # base64 signature over ``statement``
    statement: Text  # the canonical JSON that was signed


class ContractOutcome(Frozen):
    contract_id: Text
    status: ContractStatus
    reason: Text = ""
    document: DocumentRef | None = None
    signatures: tuple[Signature, ...] = ()
    approvals: tuple[ApprovalRecord, ...] = ()
    amount_in_chain_currency: Money | None = None


class ContractView(Frozen):
    contract_id: Text
    status: ContractStatus
    document: DocumentRef | None
    sign_by: datetime | None
    signed_by: tuple[Text, ...]
    open_task_ids: tuple[Text, ...]


# -- activity messages -------------------------------------------------------------------


class RfqStatusInput(Frozen):
    rfq_id: Text
    status: RfqStatus
    reason: Text = ""
    quote_deadline: datetime | None = None


class RecordQuoteInput(Frozen):
    quote: Quote


class RecordDeclineInput(Frozen):
    rfq_id: Text
    supplier_org_id: Text
    reason: Text
    declined_by: Text
    declined_at: datetime


class StandingsInput(Frozen):
    supplier_org_ids: tuple[Text, ...]


class SupplierStanding(Frozen):
    org_id: Text
    eligible: bool  # accredited and not suspended, now
    score: Decimal
    status: Text


class Standings(Frozen):
    suppliers: tuple[SupplierStanding, ...]


class RecordContractInput(Frozen):
    terms: ContractTerms
    status: ContractStatus
    at: datetime
    reason: Text = ""
    document: DocumentRef | None = None
    sign_by: datetime | None = None
    amount_in_chain_currency: Money | None = None
    fx_rate: FxRate | None = None
    approvals: tuple[ApprovalRecord, ...] = ()


class SignContractInput(Frozen):
    contract_id: Text
    document: DocumentRef
    signer: Actor
    signed_at: datetime


class SignDecision(Frozen):
    """What a party asserts when signing: the hash of the PDF it read."""

    document_sha256: Text = Field(pattern=r"^[0-9a-f]{64}$")


class RankInput(Frozen):
    """Rank the active quotes for ``line_ids`` as of the close; keep the best ``top`` per line."""

    rfq_id: Text
    as_of: date
    line_ids: tuple[Text, ...]
    standings: Standings
    exclude: dict[Text, tuple[Text, ...]] = Field(default_factory=dict)
    top: int = 3
