"""Accreditation decisions: hard failures, four eyes, tier, expiry, deadlines and the score.

Supplier score (0-100, used to rank quotes) = tier base + risk bonus, to two places:

    tier base:  TIER_1 70, TIER_2 50, TIER_3 20
    risk bonus: LOW 30, MEDIUM 15, HIGH 0

so the combinations ``tier_for`` produces score TIER_1/LOW 100, TIER_2/LOW 80,
TIER_2/MEDIUM 65 and TIER_3/HIGH 20; the rest (e.g. a tier kept while the risk band changes at
a re-review) stay ordered the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from contracts.accreditation import (
    CertificateCheck,
    CertificateClaim,
    FinancialAnalysis,
    RiskBand,
    Tier,
)
from contracts.fleet import CarrierLicenceClaim, LicenceCheck

REQUIRED_YEARS = 3
TIER_1_MIN_CERTIFICATES = 2
REMINDER_LEAD = timedelta(days=30)
FINANCIAL_REVIEW_INTERVAL = timedelta(days=365)
APPLICATION_LIFETIME = timedelta(days=14)
REVIEW_ESCALATION = timedelta(hours=72)

TIER_BASE = {Tier.TIER_1: Decimal(70), Tier.TIER_2: Decimal(50), Tier.TIER_3: Decimal(20)}
RISK_BONUS = {RiskBand.LOW: Decimal(30), RiskBand.MEDIUM: Decimal(15), RiskBand.HIGH: Decimal(0)}
SCORE_PLACES = Decimal("0.01")


def _certificate_summary(check: CertificateCheck) -> str:
    return f"{check.standard} {check.number}: {'; '.join(check.reasons)}"


def hard_failures(
    *,
    credit_code_reason: str | None,
    certificates: Sequence[CertificateCheck],
    missing_years: Sequence[int],
    currency_reason: str | None,
    licence: LicenceCheck | None = None,
) -> tuple[str, ...]:
    """Reasons to reject without a person; one failing certificate among valid ones is not one.

    A carrier (``licence`` given) needs its operating licence to pass instead of a certificate:
    its ISO certificates are optional, and the reviewer sees any that failed.
    """
    failures: list[str] = []
    if credit_code_reason:
        failures.append(f"invalid credit code: {credit_code_reason}")
    failures += [f"financial statements for {year} are missing" for year in missing_years]
    if currency_reason:
        failures.append(f"financial statements unusable: {currency_reason}")
    if licence is not None:
        if not licence.passed:
            failures.append(f"operating licence {licence.number}: {'; '.join(licence.reasons)}")
    elif not certificates:
        failures.append("no valid certificate: none was submitted")
    elif not any(check.passed for check in certificates):
        detail = " | ".join(_certificate_summary(check) for check in certificates)
        failures.append(f"no valid certificate: {detail}")
    return tuple(failures)


def needs_four_eyes(analysis: FinancialAnalysis) -> bool:
    """High-risk suppliers need a second, different approver."""
    return analysis.risk_band == RiskBand.HIGH


def tier_for(*, analysis: FinancialAnalysis, valid_certificates: int) -> Tier:
    """TIER_1: low risk and two valid certificates; TIER_3: high risk; otherwise TIER_2."""
    if analysis.risk_band == RiskBand.HIGH:
        return Tier.TIER_3
    if analysis.risk_band == RiskBand.LOW and valid_certificates >= TIER_1_MIN_CERTIFICATES:
        return Tier.TIER_1
    return Tier.TIER_2


def accreditation_expiry(
    certs: Sequence[CertificateClaim], licence: CarrierLicenceClaim | None = None
) -> date:
    """The accreditation lasts as long as the first certificate (or a carrier's licence) to
    expire."""
    expiries = [cert.expiry_date for cert in certs]
    if licence is not None:
        expiries.append(licence.expiry_date)
    if not expiries:
        raise ValueError("an accreditation needs at least one certificate or a licence")
    return min(expiries)


def reminder_due(expiry: date) -> date:
    """When to remind the supplier to submit a renewed certificate."""
    return expiry - REMINDER_LEAD


def supplier_score(tier: Tier, risk_band: RiskBand) -> Decimal:
    """The 0-100 score of the module docstring's table."""
    return (TIER_BASE[tier] + RISK_BONUS[risk_band]).quantize(SCORE_PLACES)
