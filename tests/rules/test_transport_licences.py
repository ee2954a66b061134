"""A carrier's operating licence judged against the register (rules.transport_licences), and what
a licence changes in the accreditation decisions (rules.accreditation)."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.accreditation import CertificateCheck
from contracts.fleet import CarrierLicenceClaim, LicenceCheck, LicenceRecord
from rules.accreditation import accreditation_expiry, hard_failures
from rules.transport_licences import check_licence, unlicensed_classes

TODAY = date(2026, 12, 5)
HOLDER = "江苏安达危险品运输有限公司"
CODE = "91320200MA1ANDA7XF"
CLAIM = CarrierLicenceClaim(
    number="320200300128",
    issuing_authority="无锡市交通运输局",
    permitted_classes=("2", "3", "8"),
    issue_date=date(2024, 1, 15),
    expiry_date=date(2028, 1, 14),
    phone="+86 510 8520 1234",
)
RECORD = LicenceRecord(
    number="320200300128",
    holder_name=HOLDER,
    holder_credit_code=CODE,
    issuing_authority="无锡市交通运输局",
    status="Valid",
    permitted_classes=("2", "3", "4.1", "5.1", "6.1", "8", "9"),
    issue_date=date(2024, 1, 15),
    expiry_date=date(2028, 1, 14),
)


def check(
    claim: CarrierLicenceClaim = CLAIM, record: LicenceRecord | None = RECORD
) -> LicenceCheck:
    return check_licence(claim, record, holder_name=HOLDER, holder_credit_code=CODE, today=TODAY)


def test_a_valid_licence_claiming_less_than_registered_passes() -> None:
    result = check()
    assert result.passed and result.reasons == () and result.warnings == ()
    assert result.expiry_date == date(2028, 1, 14)
    assert result.registered_classes == RECORD.permitted_classes


def test_names_are_compared_as_a_person_would() -> None:
    spaced = RECORD.model_copy(update={"holder_name": f" {HOLDER} ", "status": "VALID"})
    assert check(record=spaced).passed


@pytest.mark.parametrize(
    ("record_change", "claim_change", "reason"),
    [
        ({"status": "Suspended"}, {}, "register status is Suspended (must be Valid)"),
        ({"status": "Revoked"}, {}, "register status is Revoked (must be Valid)"),
        (
            {"holder_name": "江苏恒达化工贸易有限公司"},
            {},
            f"licence holder '江苏恒达化工贸易有限公司' is not the applicant '{HOLDER}'",
        ),
        (
            {"holder_credit_code": "91320200MA1HENGX53"},
            {},
            f"licence registered to credit code 91320200MA1HENGX53, not the applicant's {CODE}",
        ),
        (
            {},
            {"issuing_authority": "江苏省交通运输厅"},
            "declared issuing authority '江苏省交通运输厅' differs from the register's "
            "'无锡市交通运输局'",
        ),
        (
            {},
            {"expiry_date": date(2029, 1, 14)},
            "declared expiry date 2029-01-14 differs from the register's 2028-01-14",
        ),
        (
            {"issue_date": date(2022, 1, 1), "expiry_date": date(2026, 12, 5)},
            {"issue_date": date(2022, 1, 1), "expiry_date": date(2026, 12, 5)},
            "expired on 2026-12-05",  # the expiry day is the first day it is not valid
        ),
        (
            {"issue_date": date(2026, 12, 6)},
            {"issue_date": date(2026, 12, 6)},
            "not valid yet: issued on 2026-12-06",
        ),
        (
            {"permitted_classes": ("2.1", "3")},
            {"permitted_classes": ("2", "3", "8")},
            "claims class 2, 8, which the register does not permit (it permits 2.1, 3)",
        ),
    ],
    ids=[
        "suspended",
        "revoked",
        "holder",
        "credit-code",
        "authority",
        "dates",
        "expired",
        "not-yet",
        "classes",
    ],
)
def test_each_problem_fails_the_licence_naming_it(
    record_change: dict[str, object], claim_change: dict[str, object], reason: str
) -> None:
    result = check(CLAIM.model_copy(update=claim_change), RECORD.model_copy(update=record_change))
    assert not result.passed
    assert result.reasons == (reason,)


def test_an_unknown_licence_fails() -> None:
    result = check(record=None)
    assert not result.passed
    assert result.reasons == ("operating licence 320200300128 not found in the register",)


def test_a_licence_expiring_within_90_days_passes_with_a_warning() -> None:
    soon = {"expiry_date": date(2027, 2, 1)}
    result = check(CLAIM.model_copy(update=soon), RECORD.model_copy(update=soon))
    assert result.passed and result.warnings == ("expires on 2027-02-01, in 58 days",)


def test_a_class_covers_its_divisions_but_a_division_not_its_class() -> None:
    assert unlicensed_classes(("2.3", "1.4S"), ("2", "1.4")) == ()
    assert unlicensed_classes(("2", "1.4"), ("2.1", "1.4S")) == ("2", "1.4")


def failures(
    certificates: tuple[CertificateCheck, ...], licence: LicenceCheck | None = None
) -> tuple[str, ...]:
    return hard_failures(
        credit_code_reason=None,
        certificates=certificates,
        missing_years=(),
        currency_reason=None,
        licence=licence,
    )


def test_a_carrier_needs_its_licence_not_a_certificate() -> None:
    passed = LicenceCheck(number="L1", passed=True)
    failed = LicenceCheck(number="L1", passed=False, reasons=("expired on 2026-01-01", "x"))
    bad_certificate = CertificateCheck(
        standard="ISO 9001", number="C1", passed=False, reasons=("expired",)
    )

    assert failures((), passed) == ()
    assert failures((bad_certificate,), passed) == ()  # optional: the reviewer sees it
    assert failures((), failed) == ("operating licence L1: expired on 2026-01-01; x",)
    # Without a licence (a supplier) a certificate is still required, as before.
    assert failures(()) == ("no valid certificate: none was submitted",)


def test_the_accreditation_lasts_until_the_licence_or_a_certificate_expires() -> None:
    assert accreditation_expiry((), CLAIM) == date(2028, 1, 14)
    with pytest.raises(ValueError, match="at least one certificate or a licence"):
        accreditation_expiry(())
