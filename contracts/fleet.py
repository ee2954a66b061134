"""Carriers: the dangerous-goods road transport operating licence and its check in the registry.

A carrier organisation applies for accreditation like a supplier, with its operating licence
(道路运输经营许可证, here "licence") as an extra part of the application; the workflow checks it in
the licence register of the certification registry sandbox and watches its expiry. Its vehicles
and crew (the fleet) are kept by ``db.fleet``; their wire shapes are ``contracts.waybill``'s
``Vehicle`` and ``CrewMember``, which the waybill carries.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from contracts.common import Actor, DocumentRef, Frozen, Line, Text
from contracts.waybill import PermitClass, Phone

# The licence's number as its issuing authority writes it: 12 digits (division + sequence), often
# with the authority's prefix ("苏交运管许可锡字320200300128号"); either is the licence's key.
LicenceNumber = Annotated[Line, Field(min_length=4, max_length=64)]
# What a licence may carry, one class or division each, stated at least once.
LicenceClasses = Annotated[tuple[PermitClass, ...], Field(min_length=1, max_length=30)]
CrewRole = Literal["driver", "escort"]


class CarrierLicenceClaim(Frozen):
    """The operating licence as the carrier declares it when it applies or renews.

    ``phone`` is the carrier's dispatch line (调度电话) the waybill prints as the carrier's phone:
    it belongs with the licence because it is what the regulator and the consignor call about
    a trip under it.
    """

    number: LicenceNumber
    issuing_authority: Annotated[Line, Field(min_length=1, max_length=200)]
    permitted_classes: LicenceClasses
    issue_date: date
    expiry_date: date
    phone: Annotated[Phone, Field(min_length=5)]


class LicenceRecord(Frozen):
    """The licence as the transport authority's register knows it."""

    number: Text
    holder_name: Text
    holder_credit_code: Text
    issuing_authority: Text
    status: Text  # Valid, Suspended, Revoked, Cancelled, Expired
    permitted_classes: tuple[Text, ...]
    issue_date: date
    expiry_date: date


class LicenceCheck(Frozen):
    """What the register said about a declared licence; ``passed`` False is a hard failure."""

    number: Text
    passed: bool
    reasons: tuple[Text, ...] = ()
    warnings: tuple[Text, ...] = ()
    expiry_date: date | None = None
    registered_classes: tuple[Text, ...] = ()


class VerifyLicenceInput(Frozen):
    claim: CarrierLicenceClaim
    holder_name: Text
    holder_credit_code: Text
    as_of: date


class RenewLicenceInput(Frozen):
    """A renewed (or re-issued) licence the carrier submits to stay accredited."""

    licence: CarrierLicenceClaim
    actor: Actor
    document: DocumentRef | None = None  # the renewed licence's scan, kept as evidence
