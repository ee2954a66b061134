"""The catalogue price log's order (migration 0026): an offer written while its supplier's
standing change is in flight waits for that change and is logged after it commits, so the
refresher cannot sum the offer with the old standing and then forget it."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from db.catalogue import CataloguePriceChange, CatalogueProductPrice
from db.catalogue_prices import refresh_prices
from db.models import SupplierAccreditation
from storage.object_store import ObjectStore
from tests.harness.catalogue_offers import category, list_offer, terms
from tests.harness.sourcing import accredited_supplier
from tests.harness.temporal import eventually

WAITING = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
)


def drained(sessions: sessionmaker[Session]) -> None:
    while refresh_prices(sessions):
        pass


async def test_an_offer_written_during_a_suspension_is_logged_after_it(
    sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    category_id = category(sessions)
    supplier = accredited_supplier(sessions, store).id
    model = f"Q-{uuid.uuid4().hex[:6]}"
    list_offer(sessions, supplier, terms([("1", "10.00")]), category_id=category_id, model=model)
    drained(sessions)
    engine = sessions.kw["bind"]

    with engine.connect() as suspending:
        suspending.execute(
            update(SupplierAccreditation)
            .where(SupplierAccreditation.supplier_org_id == supplier)
            .values(status="suspended")
        )  # its trigger has logged the supplier's products it sees, and holds the lock
        # Meanwhile the supplier's import puts an offer on a product the suspension never saw.
        writing = asyncio.create_task(
            asyncio.to_thread(
                list_offer,
                sessions,
                supplier,
                terms([("1", "9.00")]),
                category_id=category_id,
                model=model + "-2",
            )
        )

        async def waits() -> bool:
            with engine.connect() as probe:
                assert probe.scalar(WAITING), "the offer write does not wait"
            return True

        await eventually(waits, attempts=400)
        drained(sessions)  # a refresher round now sees neither change
        suspending.commit()
    written = await writing

    with sessions() as session:
        logged = session.scalar(
            select(func.count()).where(CataloguePriceChange.product_id == written.product_id)
        )
    assert logged == 1  # logged after the suspension committed
    drained(sessions)
    with sessions() as session:
        summed = session.get(CatalogueProductPrice, (written.product_id, "CNY"))
    assert summed is None  # its only offer is the suspended supplier's
