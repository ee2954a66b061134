"""The accreditation application's form, and who may send it.

A carrier organisation applies through the same request as a supplier, as its CARRIER user, with
its road transport operating licence (道路运输经营许可证) in the form (``carrier_licence``) and the
licence's scan as the ``operating_licence`` part; its ISO certificates may be none. A supplier
applies as its SUPPLIER user with at least one certificate and no licence.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, status
from pydantic import BaseModel, Field, field_validator, model_validator

from api.errors import invalid
from contracts.accreditation import CertificateClaim, FinancialYear
from contracts.common import Actor, Line, OrgKind, Role
from contracts.fleet import CarrierLicenceClaim
from db.models import Organisation
from rules.credit_code import credit_code_problem


class ApplicationForm(BaseModel):
    """The JSON part of an application; files come as multipart parts in the same order."""

    credit_code: Annotated[Line, Field(max_length=18)]
    licence_number: Annotated[Line, Field(min_length=4, max_length=64)]
    product_categories: list[Annotated[Line, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=20
    )
    # At least one for a supplier (checked with the organisation); a carrier's are optional.
    certificates: list[CertificateClaim] = Field(default_factory=list, max_length=10)
    financials: list[FinancialYear] = Field(min_length=1, max_length=5)
    carrier_licence: CarrierLicenceClaim | None = None

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str) -> str:
        if (problem := credit_code_problem(value)) is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ApplicationForm:
        for claim in self.certificates:
            if claim.expiry_date <= claim.issue_date:
                raise ValueError(f"certificate {claim.number}: expiry_date must follow issue_date")
        licence = self.carrier_licence
        if licence is not None and licence.expiry_date <= licence.issue_date:
            raise ValueError("carrier_licence: expiry_date must follow issue_date")
        years = [y.year for y in self.financials]
        if len(set(years)) != len(years):
            raise ValueError("financials: each year may appear once")
        return self


def check_applicant(
    org: Organisation, actor: Actor, form: ApplicationForm, *, has_scan: bool
) -> None:
    """A carrier applies as a carrier, with its licence and the scan; a supplier without."""
    if org.kind == OrgKind.CARRIER.value:
        if not actor.has_any(Role.CARRIER):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="requires the carrier role")
        if form.carrier_licence is None:
            raise invalid(
                "application.carrier_licence",
                "required for a carrier: its road transport operating licence (道路运输经营许可证)",
            )
        if not has_scan:
            raise invalid("operating_licence", "required for a carrier: the licence's scan")
        return
    if not actor.has_any(Role.SUPPLIER):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="requires the supplier role")
    if form.carrier_licence is not None:
        raise invalid(
            "application.carrier_licence", "only a carrier organisation applies with a licence"
        )
    if has_scan:
        raise invalid("operating_licence", "only a carrier organisation sends a licence")
    if not form.certificates:
        raise invalid("application.certificates", "at least one ISO certificate")
