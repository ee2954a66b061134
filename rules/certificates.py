"""Judging a declared ISO certificate against the certification registry's record of it."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

from contracts.accreditation import CertificateCheck, CertificateClaim, RegistryRecord

# ISO/IEC 17021-1: certification runs in three-year cycles with yearly surveillance audits.
CERTIFICATION_CYCLE_YEARS = 3
# Recertification audits often land a few weeks late; a month is tolerated, more is not a cycle.
CYCLE_GRACE = timedelta(days=31)
EXPIRY_WARNING = timedelta(days=90)
ACTIVE = "active"
ACCREDITED = "accredited"
_SCOPE_IN_MESSAGE = 200

# NFKC already folds full-width ASCII brackets and punctuation (U+FF08, U+FF09, U+FF0C ...) to
# half-width; the CJK lenticular and tortoise-shell brackets it leaves alone.
_BRACKETS = str.maketrans(
    {"\u3010": "(", "\u3011": ")", "\u3014": "(", "\u3015": ")", "\u3016": "(", "\u3017": ")"}
)


def normalise(text: str) -> str:
    """Comparable form of names and scopes: half-width, case-folded, without whitespace."""
    folded = unicodedata.normalize("NFKC", text).translate(_BRACKETS).casefold()
    return "".join(folded.split())


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def latest_allowed_expiry(issue_date: date) -> date:
    """The last expiry date a certificate issued on ``issue_date`` may carry."""
    return _add_years(issue_date, CERTIFICATION_CYCLE_YEARS) + CYCLE_GRACE


def _shorten(text: str) -> str:
    return text if len(text) <= _SCOPE_IN_MESSAGE else text[: _SCOPE_IN_MESSAGE - 1] + "…"


def _record_problems(
    claim: CertificateClaim, record: RegistryRecord, holder_name: str
) -> list[str]:
    problems: list[str] = []
    if normalise(claim.standard) != normalise(record.standard):
        problems.append(f"declared as {claim.standard} but the registry has {record.standard}")
    if normalise(claim.certification_body) != normalise(record.certification_body):
        problems.append(
            f"declared certification body {claim.certification_body!r} differs from the "
            f"registry's {record.certification_body!r}"
        )
    if normalise(record.certification_status) != ACTIVE:
        problems.append(f"registry status is {record.certification_status} (must be Active)")
    if normalise(record.accreditation_status) != ACCREDITED:
        problems.append(f"certificate is not accredited (registry: {record.accreditation_status})")
    if normalise(record.entity_name) != normalise(holder_name):
        problems.append(
            f"certificate holder {record.entity_name!r} is not the applicant {holder_name!r}"
        )
    declared, registered = normalise(claim.scope), normalise(record.scope)
    if not declared or declared not in registered:  # equal strings contain each other
        problems.append(
            f"declared scope is not covered by the registry scope {_shorten(record.scope)!r}"
        )
    return problems


def validity_problems(
    declared: tuple[date, date], registered: tuple[date, date], today: date, *, source: str
) -> list[str]:
    """Declared (issue, expiry) dates against the ones ``source`` (the registry's, the
    register's) records, and whether the record is valid ``today`` (issue <= today < expiry)."""
    (claimed_issue, claimed_expiry), (issue, expiry) = declared, registered
    problems: list[str] = []
    if claimed_issue != issue:
        problems.append(f"declared issue date {claimed_issue} differs from the {source} {issue}")
    if claimed_expiry != expiry:
        problems.append(f"declared expiry date {claimed_expiry} differs from the {source} {expiry}")
    if today < issue:
        problems.append(f"not valid yet: issued on {issue}")
    if today >= expiry:
        problems.append(f"expired on {expiry}")
    return problems


def _date_problems(claim: CertificateClaim, record: RegistryRecord, today: date) -> list[str]:
    problems = validity_problems(
        (claim.issue_date, claim.expiry_date),
        (record.issue_date, record.expiry_date),
        today,
        source="registry's",
    )
    if record.expiry_date > latest_allowed_expiry(record.issue_date):
        problems.append(
            f"validity {record.issue_date} to {record.expiry_date} is longer than the "
            f"{CERTIFICATION_CYCLE_YEARS}-year certification cycle"
        )
    return problems


def check_certificate(
    claim: CertificateClaim, record: RegistryRecord | None, *, holder_name: str, today: date
) -> CertificateCheck:
    """Whether the declared certificate is the registry's, valid today and the applicant's."""
    if record is None:
        return CertificateCheck(
            standard=claim.standard,
            number=claim.number,
            passed=False,
            reasons=(f"certificate {claim.number} not found in the registry",),
        )
    reasons = _record_problems(claim, record, holder_name) + _date_problems(claim, record, today)
    warnings: tuple[str, ...] = ()
    if record.issue_date <= today < record.expiry_date and (
        today >= record.expiry_date - EXPIRY_WARNING
    ):
        days_left = (record.expiry_date - today).days
        warnings = (f"expires on {record.expiry_date}, in {days_left} days",)
    return CertificateCheck(
        standard=claim.standard,
        number=claim.number,
        passed=not reasons,
        reasons=tuple(reasons),
        warnings=warnings,
        expiry_date=record.expiry_date,
    )
