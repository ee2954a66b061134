"""Hard failures, four eyes, tiers, expiry, reminders and the supplier score."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from contracts.accreditation import (
    CertificateCheck,
    CertificateClaim,
    FinancialAnalysis,
    RiskBand,
    Tier,
)
from rules.accreditation import (
    APPLICATION_LIFETIME,
    FINANCIAL_REVIEW_INTERVAL,
    REMINDER_LEAD,
    REQUIRED_YEARS,
    REVIEW_ESCALATION,
    accreditation_expiry,
    hard_failures,
    needs_four_eyes,
    reminder_due,
    supplier_score,
    tier_for,
)

PASSED = CertificateCheck(standard="ISO 9001", number="Q-1", passed=True)
FAILED = CertificateCheck(
    standard="ISO 14001",
    number="E-1",
    passed=False,
    reasons=("registry status is Suspended (must be Active)", "expired on 2025-01-01"),
)


def failures(
    *,
    credit_code_reason: str | None = None,
    certificates: tuple[CertificateCheck, ...] = (PASSED,),
    missing_years: tuple[int, ...] = (),
    currency_reason: str | None = None,
) -> tuple[str, ...]:
    return hard_failures(
        credit_code_reason=credit_code_reason,
        certificates=certificates,
        missing_years=missing_years,
        currency_reason=currency_reason,
    )


def analysis(band: RiskBand) -> FinancialAnalysis:
    return FinancialAnalysis(years=(), revenue_cagr=None, flags=(), risk_band=band)


def claim(number: str, expiry: date) -> CertificateClaim:
    return CertificateClaim(
        standard="ISO 9001",
        number=number,
        certification_body="CQC",
        accreditation_body="CNAS",
        scope="coatings",
        issue_date=date(2024, 1, 1),
        expiry_date=expiry,
    )


def test_a_clean_application_has_no_hard_failures() -> None:
    assert failures() == ()


def test_one_failing_certificate_among_valid_ones_is_not_hard() -> None:
    assert failures(certificates=(PASSED, FAILED)) == ()


def test_no_valid_certificate_is_hard_and_says_why() -> None:
    assert failures(certificates=(FAILED,)) == (
        "no valid certificate: ISO 14001 E-1: registry status is Suspended (must be Active); "
        "expired on 2025-01-01",
    )
    assert failures(certificates=()) == ("no valid certificate: none was submitted",)


def test_each_missing_year_is_a_hard_failure() -> None:
    assert failures(missing_years=(2022, 2023)) == (
        "financial statements for 2022 are missing",
        "financial statements for 2023 are missing",
    )


def test_bad_credit_code_and_currency_are_hard() -> None:
    found = failures(
        credit_code_reason="credit code must be 18 characters long, got 17",
        currency_reason="financial statements must all be in one currency",
    )
    assert found == (
        "invalid credit code: credit code must be 18 characters long, got 17",
        "financial statements unusable: financial statements must all be in one currency",
    )


def test_everything_wrong_is_reported_together() -> None:
    found = failures(
        credit_code_reason="wrong",
        certificates=(FAILED,),
        missing_years=(2021,),
        currency_reason="mixed",
    )
    assert len(found) == 4


@pytest.mark.parametrize(
    ("band", "four_eyes"), [(RiskBand.LOW, False), (RiskBand.MEDIUM, False), (RiskBand.HIGH, True)]
)
def test_four_eyes_for_high_risk_only(band: RiskBand, four_eyes: bool) -> None:
    assert needs_four_eyes(analysis(band)) is four_eyes


@pytest.mark.parametrize(
    ("band", "valid", "tier"),
    [
        (RiskBand.LOW, 2, Tier.TIER_1),
        (RiskBand.LOW, 3, Tier.TIER_1),
        (RiskBand.LOW, 1, Tier.TIER_2),
        (RiskBand.MEDIUM, 2, Tier.TIER_2),
        (RiskBand.MEDIUM, 1, Tier.TIER_2),
        (RiskBand.HIGH, 2, Tier.TIER_3),
        (RiskBand.HIGH, 1, Tier.TIER_3),
    ],
)
def test_tier(band: RiskBand, valid: int, tier: Tier) -> None:
    assert tier_for(analysis=analysis(band), valid_certificates=valid) == tier


def test_accreditation_expires_with_the_first_certificate() -> None:
    certs = [
        claim("A", date(2027, 5, 1)),
        claim("B", date(2026, 11, 30)),
        claim("C", date(2028, 1, 1)),
    ]
    assert accreditation_expiry(certs) == date(2026, 11, 30)
    with pytest.raises(ValueError, match="at least one certificate"):
        accreditation_expiry([])


def test_reminder_is_30_days_before_expiry() -> None:
    assert reminder_due(date(2026, 3, 15)) == date(2026, 2, 13)
    assert timedelta(days=30) == REMINDER_LEAD


def test_deadlines() -> None:
    assert REQUIRED_YEARS == 3
    assert timedelta(days=365) == FINANCIAL_REVIEW_INTERVAL
    assert timedelta(days=14) == APPLICATION_LIFETIME
    assert timedelta(hours=72) == REVIEW_ESCALATION


@pytest.mark.parametrize(
    ("tier", "band", "score"),
    [
        (Tier.TIER_1, RiskBand.LOW, "100.00"),
        (Tier.TIER_1, RiskBand.MEDIUM, "85.00"),
        (Tier.TIER_2, RiskBand.LOW, "80.00"),
        (Tier.TIER_2, RiskBand.MEDIUM, "65.00"),
        (Tier.TIER_2, RiskBand.HIGH, "50.00"),
        (Tier.TIER_3, RiskBand.HIGH, "20.00"),
    ],
)
def test_supplier_score(tier: Tier, band: RiskBand, score: str) -> None:
    assert supplier_score(tier, band) == Decimal(score)
    assert str(supplier_score(tier, band)) == score


def test_score_is_ordered_and_bounded() -> None:
    scores = {(t, b): supplier_score(t, b) for t in Tier for b in RiskBand}
    assert all(Decimal(0) <= s <= Decimal(100) for s in scores.values())
    for band in RiskBand:
        assert scores[Tier.TIER_1, band] > scores[Tier.TIER_2, band] > scores[Tier.TIER_3, band]
    for tier in Tier:
        low, medium, high = (
            scores[tier, b] for b in (RiskBand.LOW, RiskBand.MEDIUM, RiskBand.HIGH)
        )
        assert low > medium > high
