"""Accreditation of suppliers and carriers: application, check results, status and the workflow's
messages. A carrier applies with its operating licence (``carrier_licence``, contracts.fleet);
every field it adds defaults to None, so what suppliers' processes recorded before still parses."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from contracts.common import Actor, DocumentRef, Frozen, Line, Role, Text
from contracts.fleet import CarrierLicenceClaim, LicenceCheck


def accreditation_workflow_id(supplier_org_id: str) -> str:
    """One accreditation process per organisation (supplier or carrier), alive while it is
    accredited; ``supplier_org_id`` names the applicant of either kind."""
    return f"Accreditation:{supplier_org_id}"


class AccreditationStatus(StrEnum):
    CHECKING = "checking"
    UNDER_REVIEW = "under_review"
    AWAITING_SECOND_APPROVAL = "awaiting_second_approval"
    REJECTED = "rejected"
    LAPSED = "lapsed"  # nobody decided within the application's lifetime
    ACCREDITED = "accredited"
    SUSPENDED = "suspended"


class RiskBand(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Tier(StrEnum):
    """Tier 1 is the strongest supplier; tiers feed the supplier score used in sourcing."""

    TIER_1 = "tier_1"
    TIER_2 = "tier_2"
    TIER_3 = "tier_3"


class CertificateClaim(Frozen):
    """An ISO management-system certificate as the supplier declares it."""

    standard: Text = Field(pattern=r"^ISO \d{4,5}$", examples=["ISO 9001"])
    number: Line = Field(min_length=1, max_length=60)
    certification_body: Line = Field(min_length=1, max_length=200)
    accreditation_body: Line = Field(min_length=1, max_length=200)
    scope: Text = Field(min_length=1, max_length=2000)
    issue_date: date
    expiry_date: date
    document: DocumentRef | None = None


# Statement figures: up to a trillion-scale amount with cents; larger is a typing mistake.
Figure = Annotated[Decimal, Field(max_digits=18, decimal_places=2)]


class FinancialYear(Frozen):
    """One year's balance-sheet and income-statement figures, in one currency.

    Chinese statements: ``profit_before_tax`` is 利润总额, ``retained_earnings`` is 未分配利润.
    """

    year: int = Field(ge=1990, le=2100)
    currency: Text = Field(pattern=r"^[A-Z]{3}$")
    revenue: Figure = Field(ge=0)
    net_profit: Figure
    profit_before_tax: Figure
    interest_expense: Figure = Field(ge=0)
    current_assets: Figure = Field(ge=0)
    inventory: Figure = Field(ge=0)
    prepaid_expenses: Figure = Field(ge=0)
    current_liabilities: Figure = Field(ge=0)
    total_assets: Figure = Field(gt=0)
    total_liabilities: Figure = Field(ge=0)
    retained_earnings: Figure
    document: DocumentRef | None = None


class RegistryRecord(Frozen):
    """A certificate as the certification registry knows it (IAF CertSearch fields)."""

    number: Text
    standard: Text
    certification_status: Text  # Active, Suspended, Withdrawn, Expired, ...
    accreditation_status: Text  # Accredited, Unaccredited
    entity_name: Text
    scope: Text
    issue_date: date
    expiry_date: date
    certification_body: Text
    accreditation_body: Text


class CertificateCheck(Frozen):
    standard: Text
    number: Text
    passed: bool
    reasons: tuple[Text, ...] = ()
    warnings: tuple[Text, ...] = ()
    expiry_date: date | None = None


class Flag(Frozen):
    code: Text
    severity: Text  # "red" | "amber"
    message: Text
    year: int | None = None


class YearAnalysis(Frozen):
    year: int
    current_ratio: Decimal | None
    quick_ratio: Decimal | None
    debt_to_assets: Decimal
    interest_coverage: Decimal | None  # None when there is no interest to cover
    net_margin: Decimal | None
    revenue_growth: Decimal | None  # against the previous year; None for the first
    z_double_prime: Decimal
    z_zone: Text  # "safe" | "grey" | "distress"


class FinancialAnalysis(Frozen):
    years: tuple[YearAnalysis, ...]
    revenue_cagr: Decimal | None
    flags: tuple[Flag, ...]
    risk_band: RiskBand


class ApplyInput(Frozen):
    """A supplier's or carrier's application, with its uploaded documents already stored.

    A carrier's carries its operating licence; its ISO certificates may be none.
    """

    application_id: Text
    supplier_org_id: Text
    legal_name: Text
    credit_code: Text
    licence_number: Text
    licence_document: DocumentRef
    certificates: tuple[CertificateClaim, ...]
    financials: tuple[FinancialYear, ...]
    product_categories: tuple[Text, ...] = ()
    submitted_by: Actor
    submitted_at: datetime
    carrier_licence: CarrierLicenceClaim | None = None
    carrier_licence_document: DocumentRef | None = None  # the licence's scan

    @property
    def applicant_role(self) -> Role:
        """The role that acts for the applicant: its principal, told about its standing."""
        return Role.CARRIER if self.carrier_licence is not None else Role.SUPPLIER


class CheckReport(Frozen):
    """Everything the automatic checks found; hard failures reject without a person."""

    credit_code_valid: bool
    credit_code_reason: Text = ""
    certificates: tuple[CertificateCheck, ...]
    financials: FinancialAnalysis | None
    hard_failures: tuple[Text, ...]
    licence: LicenceCheck | None = None  # a carrier's operating licence in the register


class Accreditation(Frozen):
    """The standing accreditation the workflow keeps while the supplier is accredited."""

    tier: Tier
    risk_band: RiskBand
    accredited_at: datetime
    expires_on: date
    certificates: tuple[CertificateClaim, ...]
    certificate_document: DocumentRef
    next_financial_review: date
    reminded_for: tuple[Text, ...] = ()  # certificate numbers already reminded about
    suspended_for: Text = ""  # "certificate_expiry" | "financial_review" while suspended
    standing_revision: int = 0  # orders the standing rows the workflow writes
    # A carrier's verified operating licence; its expiry bounds ``expires_on`` like a certificate.
    licence: CarrierLicenceClaim | None = None


class AccreditationWorkflowInput(Frozen):
    application: ApplyInput
    # Set when the workflow continues as new after accreditation.
    accreditation: Accreditation | None = None
    status: AccreditationStatus = AccreditationStatus.CHECKING
    reasons: tuple[Text, ...] = ()  # why it is suspended, kept across continue-as-new


class RenewCertificateInput(Frozen):
    certificate: CertificateClaim
    actor: Actor


class RenewCertificateResult(Frozen):
    accepted: bool
    reasons: tuple[Text, ...]
    expires_on: date | None


class AccreditationView(Frozen):
    """Live state, from the workflow's query."""

    application_id: Text
    supplier_org_id: Text
    status: AccreditationStatus
    reasons: tuple[Text, ...] = ()
    report: CheckReport | None = None
    accreditation: Accreditation | None = None
    open_task_ids: tuple[Text, ...] = ()


class AccreditationOutcome(Frozen):
    """How an application ended (accredited entities do not end: they continue as new)."""

    application_id: Text
    status: AccreditationStatus
    reasons: tuple[Text, ...]


# Activity messages -------------------------------------------------------------------------


class CreditCodeCheckInput(Frozen):
    supplier_org_id: Text
    credit_code: Text


class CreditCodeCheckResult(Frozen):
    valid: bool
    reason: Text = ""


class VerifyCertificateInput(Frozen):
    claim: CertificateClaim
    holder_name: Text
    as_of: date


class AnalyseFinancialsInput(Frozen):
    years: tuple[FinancialYear, ...]
    latest_expected_year: int


class FinancialCheck(Frozen):
    analysis: FinancialAnalysis | None
    missing_years: tuple[int, ...]
    currency_reason: Text = ""


class RecordReportInput(Frozen):
    application_id: Text
    report: CheckReport
    status: AccreditationStatus


class ApplicationStatusInput(Frozen):
    application_id: Text
    status: AccreditationStatus
    reasons: tuple[Text, ...] = ()
    actor: Actor | None = None  # None: the platform decided (checks, deadlines)


class AccreditationRecordInput(Frozen):
    """The supplier's standing as sourcing sees it; written on every change of status."""

    supplier_org_id: Text
    application_id: Text
    status: AccreditationStatus
    tier: Tier
    risk_band: RiskBand
    score: Decimal
    accredited_at: datetime
    expires_on: date
    certificate_document_id: Text
    reason: Text = ""
    change_key: Text  # workflow id + step: the audit entry is written once per change
    revision: int  # a retried older write never overwrites a newer one
    carrier_licence: CarrierLicenceClaim | None = None  # a carrier's, stored with the standing


class IssueCertificateInput(Frozen):
    document_id: Text
    application_id: Text
    supplier_org_id: Text
    legal_name: Text
    credit_code: Text
    tier: Tier
    risk_band: RiskBand
    accredited_on: date
    expires_on: date
    certificates: tuple[CertificateClaim, ...]
    approver_user_ids: tuple[Text, ...]
    carrier_licence: CarrierLicenceClaim | None = None  # the certificate then says carrier
