"""Certificate checks against the registry record, one reason at a time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from contracts.accreditation import CertificateClaim, RegistryRecord
from rules.certificates import check_certificate, latest_allowed_expiry, normalise

TODAY = date(2025, 3, 1)
# Full-width brackets (U+FF08, U+FF09), as Chinese registrations write them.
HOLDER = "江苏测试化工有限公司\uff08无锡\uff09"
SCOPE = "Production and sale of industrial coatings and adhesives"
RECORD = RegistryRecord(
    number="CN-QMS-0001",
    standard="ISO 9001",
    certification_status="Active",
    accreditation_status="Accredited",
    entity_name=HOLDER,
    scope=SCOPE,
    issue_date=date(2024, 1, 15),
    expiry_date=date(2027, 1, 14),
    certification_body="China Quality Certification Centre (CQC)",
    accreditation_body="CNAS",
)
CLAIM = CertificateClaim(
    standard="ISO 9001",
    number="CN-QMS-0001",
    certification_body="China Quality Certification Centre (CQC)",
    accreditation_body="CNAS",
    scope=SCOPE,
    issue_date=date(2024, 1, 15),
    expiry_date=date(2027, 1, 14),
)


def reasons(
    *,
    claim: CertificateClaim = CLAIM,
    record: RegistryRecord | None = RECORD,
    holder: str = HOLDER,
    today: date = TODAY,
) -> tuple[str, ...]:
    return check_certificate(claim, record, holder_name=holder, today=today).reasons


def test_matching_certificate_passes() -> None:
    check = check_certificate(CLAIM, RECORD, holder_name=HOLDER, today=TODAY)
    assert check.passed
    assert check.reasons == () and check.warnings == ()
    assert check.expiry_date == date(2027, 1, 14)
    assert (check.standard, check.number) == ("ISO 9001", "CN-QMS-0001")


def test_not_in_registry() -> None:
    check = check_certificate(CLAIM, None, holder_name=HOLDER, today=TODAY)
    assert not check.passed
    assert check.reasons == ("certificate CN-QMS-0001 not found in the registry",)
    assert check.expiry_date is None


def test_standard_mismatch() -> None:
    record = RECORD.model_copy(update={"standard": "ISO 14001"})
    assert reasons(record=record) == ("declared as ISO 9001 but the registry has ISO 14001",)


def test_certification_body_mismatch() -> None:
    claim = CLAIM.model_copy(update={"certification_body": "Some Other Certifier Ltd"})
    (reason,) = reasons(claim=claim)
    assert "certification body 'Some Other Certifier Ltd'" in reason
    assert "China Quality Certification Centre (CQC)" in reason


@pytest.mark.parametrize("status", ["Suspended", "Withdrawn", "Expired", "Cancelled", "Draft"])
def test_status_must_be_active(status: str) -> None:
    record = RECORD.model_copy(update={"certification_status": status})
    assert reasons(record=record) == (f"registry status is {status} (must be Active)",)


def test_status_comparison_ignores_case() -> None:
    assert reasons(record=RECORD.model_copy(update={"certification_status": "ACTIVE"})) == ()


def test_must_be_accredited() -> None:
    record = RECORD.model_copy(update={"accreditation_status": "Unaccredited"})
    assert reasons(record=record) == ("certificate is not accredited (registry: Unaccredited)",)


def test_holder_must_be_the_applicant() -> None:
    (reason,) = reasons(holder="江苏另一家化工有限公司")
    assert reason == f"certificate holder {HOLDER!r} is not the applicant '江苏另一家化工有限公司'"


@pytest.mark.parametrize(
    "holder",
    [
        "江苏测试化工有限公司(无锡)",  # half-width brackets
        " 江苏测试化工有限公司 \uff08无锡\uff09 ",  # stray spaces
        "江苏测试化工有限公司\u3010无锡\u3011",  # lenticular brackets
    ],
)
def test_holder_names_match_after_normalisation(holder: str) -> None:
    assert reasons(holder=holder) == ()


def test_normalise_folds_width_case_and_space() -> None:
    # full-width "ABC", an ideographic space, "Co", full-width ".," and "Ltd."
    full_width = "\uff21\uff22\uff23\u3000Co\uff0e\uff0c\uff2c\uff54\uff44\uff0e"
    assert normalise(full_width) == normalise("abc co.,ltd.") == "abcco.,ltd."


def test_scope_contained_in_the_registry_scope_passes() -> None:
    claim = CLAIM.model_copy(update={"scope": "production and sale of INDUSTRIAL COATINGS"})
    assert reasons(claim=claim) == ()


def test_scope_not_covered_fails() -> None:
    claim = CLAIM.model_copy(update={"scope": "Production of pharmaceuticals"})
    assert reasons(claim=claim) == (
        f"declared scope is not covered by the registry scope {SCOPE!r}",
    )


def test_blank_scope_is_not_covered() -> None:
    claim = CLAIM.model_copy(update={"scope": "   "})
    assert len(reasons(claim=claim)) == 1


def test_long_registry_scope_is_shortened_in_the_reason() -> None:
    record = RECORD.model_copy(update={"scope": "x" * 500})
    (reason,) = reasons(record=record)
    assert reason.endswith("x…'") and len(reason) < 300


def test_declared_dates_must_match_the_registry() -> None:
    claim = CLAIM.model_copy(
        update={"issue_date": date(2024, 1, 16), "expiry_date": date(2027, 6, 1)}
    )
    assert reasons(claim=claim) == (
        "declared issue date 2024-01-16 differs from the registry's 2024-01-15",
        "declared expiry date 2027-06-01 differs from the registry's 2027-01-14",
    )


def test_not_valid_before_issue() -> None:
    assert reasons(today=date(2024, 1, 14)) == ("not valid yet: issued on 2024-01-15",)
    assert reasons(today=date(2024, 1, 15)) == ()


def test_expired_on_the_expiry_date() -> None:
    assert reasons(today=date(2027, 1, 13)) == ()
    assert reasons(today=date(2027, 1, 14)) == ("expired on 2027-01-14",)


def with_expiry(expiry: date) -> tuple[str, ...]:
    return reasons(
        claim=CLAIM.model_copy(update={"expiry_date": expiry}),
        record=RECORD.model_copy(update={"expiry_date": expiry}),
    )


def test_validity_longer_than_the_cycle_fails() -> None:
    # issued 2024-01-15: three years is 2027-01-15, plus 31 days' grace is 2027-02-15
    assert latest_allowed_expiry(date(2024, 1, 15)) == date(2027, 2, 15)
    assert with_expiry(date(2027, 2, 15)) == ()
    assert with_expiry(date(2027, 2, 16)) == (
        "validity 2024-01-15 to 2027-02-16 is longer than the 3-year certification cycle",
    )


def test_cycle_from_29_february() -> None:
    assert latest_allowed_expiry(date(2024, 2, 29)) == date(2027, 2, 28) + timedelta(days=31)


def test_warns_within_90_days_of_expiry() -> None:
    expiry = RECORD.expiry_date
    early = check_certificate(CLAIM, RECORD, holder_name=HOLDER, today=expiry - timedelta(days=91))
    assert early.passed and early.warnings == ()
    late = check_certificate(CLAIM, RECORD, holder_name=HOLDER, today=expiry - timedelta(days=90))
    assert late.passed
    assert late.warnings == ("expires on 2027-01-14, in 90 days",)


def test_several_reasons_are_all_reported() -> None:
    record = RECORD.model_copy(
        update={"certification_status": "Withdrawn", "accreditation_status": "Unaccredited"}
    )
    check = check_certificate(CLAIM, record, holder_name="Someone Else", today=date(2028, 1, 1))
    assert not check.passed
    assert len(check.reasons) == 4
    assert check.expiry_date == RECORD.expiry_date
