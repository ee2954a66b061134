"""Shared value types: money, roles, organisations, actors and document references."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


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


class OrgKind(StrEnum):
    BUYER = "buyer"
    SUPPLIER = "supplier"
    OPERATOR = "operator"
    REGULATOR = "regulator"


class Money(Frozen):
    """An amount in one ISO 4217 currency; never a float."""

    amount: Decimal
    currency: str = Field(pattern=r"^[A-Z]{3}$")


CENT = Decimal("0.01")


def money_text(amount: Decimal, currency: str) -> str:
    """'CNY 1,234,567.89': thousands separators, two decimals rounded half up; the one way
    amounts are written, in documents, task summaries and explanations alike."""
    return f"{currency} {amount.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


class Actor(Frozen):
    """Who acts: an authenticated user, or the platform itself (user_id ``system``)."""

    user_id: str
    org_id: str
    roles: tuple[Role, ...] = ()

    def has_any(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)


SYSTEM_ACTOR = Actor(user_id="system", org_id="platform", roles=())


class DocumentRef(Frozen):
    """A stored document: its row id, content hash and what it is."""

    document_id: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    filename: str
    content_type: str


# The platform operator's organisation: compliance and ops staff belong to it.
OPERATOR_ORG_ID = "org_tradeflow_ops"
