"""Orders placed straight from the catalogue: the purchase row and the stock it holds.

The table lives on ``db.models.Base`` (``db.models`` imports this module at its end). One row a
purchase, written by its process's first activity in the transaction that reserves the offers'
stock (``activities.catalogue_orders``): the row says the reservation was taken, so a retry
never takes it twice, and which offers and quantities to give back should the contract fail.
A purchase whose offers no longer covered it is recorded too, refused with the reason, so the
buyer watching it reads why. A reserved purchase is also an RFQ (``rfq_id``, the same id,
``rfqs.origin`` = ``catalogue``) holding the offers' terms as the supplier's quote, which is what
its contract is drafted from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, JsonDict


class CataloguePurchase(Base):
    __tablename__ = "catalogue_purchases"
    __table_args__ = (
        Index("ix_catalogue_purchases_buyer_created", "buyer_org_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    buyer_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    supplier_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    # The RFQ the purchase is recorded as; None when it was refused before anything was held.
    rfq_id: Mapped[str | None] = mapped_column(ForeignKey("rfqs.id"))
    workflow_id: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20))  # contracts.catalogue_orders.PurchaseStatus
    status_reason: Mapped[str] = mapped_column(Text, default="")
    # contracts.catalogue_orders.PurchaseLine as JSON: the offers, revisions and quantities held.
    lines: Mapped[list[JsonDict]] = mapped_column(JSONB)
    delivery_region: Mapped[str] = mapped_column(String(5))
    currency: Mapped[str] = mapped_column(String(3))
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
