"""Judging a carrier's declared operating licence (道路运输经营许可证) against the register.

A licence passes when the register has it as Valid, holds it in the applicant's name and credit
code, from the declared authority, on the declared dates, valid today (issue ≤ today < expiry,
as certificates are read), and permits every class the carrier claims: a claim may be narrower
than the register's classes, never wider (a permitted class covers its divisions, as
``rules.waybill_load.covers`` reads permits). Anything else is a hard failure of the carrier's
application, or a refused renewal.
"""

from __future__ import annotations

from datetime import date, timedelta

from contracts.fleet import CarrierLicenceClaim, LicenceCheck, LicenceRecord
from rules.certificates import normalise, validity_problems
from rules.waybill_load import covers

VALID = "valid"
EXPIRY_WARNING = timedelta(days=90)


def _holder_problems(
    claim: CarrierLicenceClaim, record: LicenceRecord, holder_name: str, credit_code: str
) -> list[str]:
    problems: list[str] = []
    if normalise(record.status) != VALID:
        problems.append(f"register status is {record.status} (must be Valid)")
    if normalise(record.holder_name) != normalise(holder_name):
        problems.append(
            f"licence holder {record.holder_name!r} is not the applicant {holder_name!r}"
        )
    if normalise(record.holder_credit_code) != normalise(credit_code):
        problems.append(
            f"licence registered to credit code {record.holder_credit_code}, "
            f"not the applicant's {credit_code}"
        )
    if normalise(claim.issuing_authority) != normalise(record.issuing_authority):
        problems.append(
            f"declared issuing authority {claim.issuing_authority!r} differs from the "
            f"register's {record.issuing_authority!r}"
        )
    return problems


def unlicensed_classes(claimed: tuple[str, ...], registered: tuple[str, ...]) -> tuple[str, ...]:
    """The claimed classes no registered class covers."""
    return tuple(c for c in claimed if not any(covers(r, c) for r in registered))


def check_licence(
    claim: CarrierLicenceClaim,
    record: LicenceRecord | None,
    *,
    holder_name: str,
    holder_credit_code: str,
    today: date,
) -> LicenceCheck:
    """Whether the declared licence is the register's, valid today, the applicant's, and
    permits what the carrier claims."""
    if record is None:
        return LicenceCheck(
            number=claim.number,
            passed=False,
            reasons=(f"operating licence {claim.number} not found in the register",),
        )
    reasons = _holder_problems(claim, record, holder_name, holder_credit_code)
    reasons += validity_problems(
        (claim.issue_date, claim.expiry_date),
        (record.issue_date, record.expiry_date),
        today,
        source="register's",
    )
    beyond = unlicensed_classes(claim.permitted_classes, record.permitted_classes)
    if beyond:
        reasons.append(
            f"claims class {', '.join(beyond)}, which the register does not permit "
            f"(it permits {', '.join(record.permitted_classes)})"
        )
    warnings: tuple[str, ...] = ()
    if record.issue_date <= today < record.expiry_date <= today + EXPIRY_WARNING:
        warnings = (
            f"expires on {record.expiry_date}, in {(record.expiry_date - today).days} days",
        )
    return LicenceCheck(
        number=claim.number,
        passed=not reasons,
        reasons=tuple(reasons),
        warnings=warnings,
        expiry_date=record.expiry_date,
        registered_classes=record.permitted_classes,
    )
