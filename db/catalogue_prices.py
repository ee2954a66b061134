"""Each product's prices summed from its visible offers, kept as offers and standings change.

Triggers (migration 0025) log a product in ``catalogue_price_changes`` whenever one of its offers
is written or a supplier's standing or expiry changes. ``refresh_prices`` takes the logged
products and those whose row has lapsed (``fresh_until`` reached) or has no floors (summed by a
refresher older than migration 0033) and sums their offers again
under ``visible_offer``, the rule search applies (with the product's brand, folded, which a
brand's walk reads): the best list price, the shortest lead time,
how many offers, where they deliver, whether any holds stock, the least minimum order, the
least any asks below a quantity (``db.catalogue.FLOORS``), and the day the first of them lapses.

One refresher runs, in the worker with the ``singletons`` role (``refresh_forever``), and an
advisory lock keeps a second from running a round at the same time. A round reads the log and
sums from one snapshot (REPEATABLE READ) and takes away only the log rows it read: a change
committed meanwhile stays logged, for the next round. The round that drains the log analyses it
if the planner still counts a burst's rows in it.

Search (``db.catalogue_best``, ``db.catalogue_broad``) trusts a row only while its product is
not logged and the row is fresh; otherwise it asks the product's offers, so a stale sum is
never shown, only slower. A lapsed row still bounds its product's price from below (offers only
drop out as days pass), and a walk that takes the sums as bounds reads it as one
(``db.catalogue_untrusted``).
"""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import (
    Date,
    Insert,
    Numeric,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import Session, sessionmaker

from db.catalogue import (
    FLOORS,
    IN_STOCK,
    CatalogueOffer,
    CataloguePriceChange,
    CatalogueProductPrice,
    Product,
    visible_offer,
)
from db.models import SupplierAccreditation
from db.session import transaction
from rules.waybill_parties import china_today
from stack.polling import poll_until_stopped

REFRESH_LOCK = 7_431_014  # held by a refresher for one round
BATCH = 5_000  # products a round
# Rows the planner may think the log holds once drained before the refresher analyses it.
STALE_LOG_ROWS = 1_000


def refresh_prices(
    sessions: sessionmaker[Session], *, today: date | None = None, batch: int = BATCH
) -> int:
    """One round: up to ``batch`` products' prices summed again. How many (0 when nothing was
    due, or another refresher held the lock)."""
    today = today or china_today()
    stale = False
    with transaction(sessions) as session:
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        if not session.scalar(select(func.pg_try_advisory_xact_lock(REFRESH_LOCK))):
            return 0
        logged = session.execute(
            select(CataloguePriceChange.id, CataloguePriceChange.product_id)
            .order_by(CataloguePriceChange.id)
            .limit(batch)
        ).all()
        if len(logged) < batch:  # this round drains the log, as its snapshot saw it
            stale = _thought_large(session)
        lapsed = session.scalars(
            select(CatalogueProductPrice.product_id.distinct())
            .where(CatalogueProductPrice.fresh_until <= today)
            .limit(batch)
        )
        # Summed by a refresher older than migration 0033, during an upgrade: no floors.
        unfloored = session.scalars(
            select(CatalogueProductPrice.product_id.distinct())
            .where(CatalogueProductPrice.floor_any.is_(None))
            .limit(batch)
        )
        products = sorted({product for _, product in logged} | set(lapsed) | set(unfloored))
        if products:
            sum_prices(session, products, today)
            session.execute(
                delete(CataloguePriceChange).where(
                    CataloguePriceChange.id.in_([change for change, _ in logged])
                )
            )
    if stale:
        with transaction(sessions) as session:
            session.execute(text("ANALYZE catalogue_price_changes"))
    return len(products)


def _thought_large(session: Session) -> bool:
    """Whether the planner still counts a burst in the log this round drains.

    After a burst (an import, a day's offers lapsing) the refresher drains the log within
    seconds, but the planner keeps the burst's row count until autovacuum next analyses the
    table, and plans search's list of untrusted products for it: 23.5 ms a search instead of
    0.5 in the benchmark. A drained log is small, so analysing it is cheap: a few milliseconds
    a round even under a stream of changes steady enough to keep the count past the bound."""
    thought = session.scalar(
        text("SELECT reltuples FROM pg_class WHERE oid = 'catalogue_price_changes'::regclass")
    )
    return thought is not None and thought > STALE_LOG_ROWS


def sum_prices(session: Session, products: list[str], today: date) -> None:
    """``products``' prices summed again from their offers (their log is left as it is)."""
    session.execute(
        delete(CatalogueProductPrice).where(CatalogueProductPrice.product_id.in_(products))
    )
    session.execute(_summed(products, today))


def _summed(products: list[str], today: date) -> Insert:
    offer = CatalogueOffer
    region = func.unnest(offer.delivery_regions).table_valued("code").render_derived("region")
    # The first day an offer is not visible: after its last valid day, or its supplier's expiry.
    lapses = func.least(offer.valid_until + 1, SupplierAccreditation.expires_on)
    sums = (
        select(
            offer.product_id,
            offer.currency,
            func.lower(Product.brand),
            func.min(offer.list_price),
            func.min(offer.lead_time_days),
            func.count(offer.id.distinct()),
            func.coalesce(
                func.array_agg(region.c.code.distinct()).filter(region.c.code.is_not(None)),
                literal_column("'{}'"),
            ),
            cast(func.min(lapses), Date),
            func.bool_or(offer.stock >= IN_STOCK),
            func.min(offer.min_order_quantity),
            *(
                func.min(
                    func.catalogue_price_floor(  # migration 0033
                        offer.list_price,
                        offer.break_quantities,
                        offer.break_prices,
                        cast(up_to, Numeric),
                    )
                )
                for up_to in FLOORS.values()
            ),
        )
        .join(SupplierAccreditation, SupplierAccreditation.supplier_org_id == offer.supplier_org_id)
        .join(Product, Product.id == offer.product_id)
        .outerjoin(region, literal_column("true"))
        .where(offer.product_id.in_(products), visible_offer(today))
        .group_by(offer.product_id, offer.currency, Product.brand)
    )
    return insert(CatalogueProductPrice).from_select(
        [
            "product_id",
            "currency",
            "brand",
            "price",
            "lead_time_days",
            "offers",
            "regions",
            "fresh_until",
            "in_stock",
            "least_moq",
            *FLOORS,
        ],
        sums,
    )


async def refresh_forever(
    sessions: sessionmaker[Session], stop: asyncio.Event, poll_s: float
) -> None:
    """Refresh until ``stop`` is set; a failure is logged and the next poll tries again (search
    meanwhile asks the logged products' offers)."""

    async def step() -> bool:  # products refreshed: more may be due, go on at once
        return await asyncio.to_thread(refresh_prices, sessions) > 0

    await poll_until_stopped(stop, poll_s, step, doing="the catalogue price refresher")
