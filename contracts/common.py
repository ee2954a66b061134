"""Shared value types: money, roles, organisations, actors and document references."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# What PostgreSQL refuses in text (NUL), what psycopg2 cannot encode (lone surrogates), and the
# other C0/C1 controls and DEL that no business text needs and that hide in logs and PDFs.
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_SURROGATES = "\ud800-\udfff"
_NOT_IN_TEXT = re.compile(f"[{_CONTROLS}{_SURROGATES}]")
_NOT_IN_LINE = re.compile(f"[\t\n\r{_CONTROLS}{_SURROGATES}]")


def _refuse(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        found = pattern.search(value)
        if found is not None:
            raise ValueError(
                f"{what} must not contain U+{ord(found.group()):04X} at position {found.start()}: "
                "control characters and unpaired surrogates are refused"
            )
        return value

    return AfterValidator(check)


# The one string type every contract uses, so whatever the edge accepts the database stores.
# Line: one line (names, codes, titles). Text: may span lines (descriptions, reasons, notes).
Line = Annotated[str, _refuse(_NOT_IN_LINE, "a single-line text")]
Text = Annotated[str, _refuse(_NOT_IN_TEXT, "text")]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Role(StrEnum):
    BUYER = "buyer"
    SUPPLIER = "supplier"
    COMPLIANCE = "compliance"
    LOGISTICS = "logistics"
    FINANCE = "finance"
    OPS_SUPERVISOR = "ops_supervisor"
    REGULATOR = "regulator"
    ADMIN = "admin"
    # A carrier organisation's principal: applies for its accreditation and keeps its fleet.
    # Its dispatchers hold LOGISTICS: they make the waybills and report the shipments' events.
    CARRIER = "carrier"


class OrgKind(StrEnum):
    BUYER = "buyer"
    SUPPLIER = "supplier"
    OPERATOR = "operator"
    REGULATOR = "regulator"
    CARRIER = "carrier"


class Money(Frozen):
    """An amount in one ISO 4217 currency; never a float."""

    # Bounded by the database's numeric(20, 2) columns: larger is a typing mistake, not money.
    amount: Decimal = Field(gt=-(10**18), lt=10**18, allow_inf_nan=False)
    currency: Line = Field(pattern=r"^[A-Z]{3}$")


CENT = Decimal("0.01")


def money_text(amount: Decimal, currency: str) -> str:
    """'CNY 1,234,567.89': thousands separators, two decimals rounded half up; the one way
    amounts are written, in documents, task summaries and explanations alike."""
    return f"{currency} {amount.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


class Actor(Frozen):
    """Who acts: an authenticated user, or the platform itself (user_id ``system``)."""

    user_id: Line
    org_id: Line
    roles: tuple[Role, ...] = ()

    def has_any(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)


SYSTEM_ACTOR = Actor(user_id="system", org_id="platform", roles=())


class DocumentRef(Frozen):
    """A stored document: its row id, content hash and what it is."""

    document_id: Line
    sha256: Line = Field(pattern=r"^[0-9a-f]{64}$")
    filename: Text
    content_type: Line


# The platform operator's organisation: compliance and ops staff belong to it.
OPERATOR_ORG_ID = "org_tradeflow_ops"
