"""Search answered from the products' summed prices (``db.catalogue_prices``): the same answers
as from the offers themselves, and never a stale one: a product whose offers or suppliers changed
since its sum, or whose sum has lapsed, is asked of its offers until the refresher sums it again.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import Role
from db.catalogue import FLOORS, CataloguePriceChange, CatalogueProductPrice
from db.catalogue_prices import STALE_LOG_ROWS, refresh_forever, refresh_prices
from db.migrate import ROOT
from rules.waybill_parties import china_today
from settings import Settings
from storage.object_store import ObjectStore
from tests.api.test_catalogue_search import PRODUCTS, Catalogue, _listing, catalogue
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller
from tests.harness.temporal import eventually

MIGRATIONS = ROOT / "migrations" / "versions"
MIGRATION_0030 = MIGRATIONS / "0030_catalogue_sums_stock_and_moq.py"
MIGRATION_0033 = MIGRATIONS / "0033_catalogue_sums_floors.py"

__all__ = ["catalogue"]  # the fixture, from the search's tests: a category of this module's own

QUERIES: list[tuple[str, dict[str, str]]] = [
    ("螺丝刀", {}),
    ("螺丝刀", {"sort": "price"}),
    ("", {"sort": "lead_time"}),
    ("Stanley", {"price_max": "40"}),
    ("", {"hazard_class": "3"}),
    ("screwdriver", {"sort": "price", "limit": "1"}),
]


def logged(sessions: sessionmaker[Session], ids: set[str]) -> set[str]:
    with sessions() as session:
        return set(
            session.scalars(
                select(CataloguePriceChange.product_id).where(
                    CataloguePriceChange.product_id.in_(ids)
                )
            )
        )


def refreshed(sessions: sessionmaker[Session], ids: set[str]) -> None:
    """Rounds until none of ``ids`` is logged (other modules' products are summed too)."""
    for _ in range(1000):
        if not logged(sessions, ids):
            return
        refresh_prices(sessions)
    raise AssertionError("the refresher did not take the log away")


def price_of(sessions: sessionmaker[Session], product_id: str) -> CatalogueProductPrice:
    with sessions() as session:
        row = session.get(CatalogueProductPrice, (product_id, "CNY"))
    assert row is not None
    return row


async def answers(catalogue: Catalogue) -> list[dict[str, Any]]:
    return [await catalogue.search(q, **params) for q, params in QUERIES]


async def test_summed_prices_answer_as_the_offers_do(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    ids = set(catalogue.ids.values())
    assert logged(sessions, ids) == ids  # listed by the fixture: not summed yet
    from_offers = await answers(catalogue)

    refreshed(sessions, ids)

    phillips = price_of(sessions, catalogue.ids["phillips"])
    assert (phillips.price, phillips.lead_time_days, phillips.offers) == (Decimal("12.5"), 3, 1)
    assert sorted(phillips.regions) == ["CN-JS", "CN-SH"]
    summed = [price_of(sessions, catalogue.ids[key]) for key in ("phillips", "precision", "wrench")]
    assert [(row.in_stock, row.least_moq) for row in summed] == [
        (True, Decimal(1)), (False, Decimal(1)), (True, Decimal(20)),
    ]  # fmt: skip
    # Below 10, 100, 1,000 and at any quantity: the list price, then the break at 100 (0.8x).
    assert [(r.floor_10, r.floor_100, r.floor_1000, r.floor_any) for r in summed] == [
        (Decimal("12.5"), Decimal("12.5"), Decimal(10), Decimal(10)),
        (Decimal(150), Decimal(150), Decimal(120), Decimal(120)),
        (Decimal(45), Decimal(45), Decimal(36), Decimal(36)),
    ]  # fmt: skip
    assert await answers(catalogue) == from_offers
    stock_and_moq = _migrated(sessions, catalogue, MIGRATION_0030, ("in_stock", "least_moq"))
    assert stock_and_moq == [(row.in_stock, row.least_moq) for row in summed]
    floors = _migrated(sessions, catalogue, MIGRATION_0033, FLOORS)
    assert floors == [tuple(getattr(row, floor) for floor in FLOORS) for row in summed]


def _migrated(
    sessions: sessionmaker[Session], catalogue: Catalogue, path: Path, columns: Iterable[str]
) -> list[Any]:
    """What a migration of the sums (``path``) fills into ``columns`` of sums kept before it
    (unknown), of the phillips, precision and wrench products, and whether it lapses a sum no
    visible offer answers. On a temporary copy of their rows, which the migration's statements
    find first (the temporary schema leads the search path): the shared table is not locked."""
    columns = list(columns)
    unknown = ", ".join(f"{column} = NULL" for column in columns)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    ids = [catalogue.ids[key] for key in ("phillips", "precision", "wrench")]
    copied = (
        "CREATE TEMPORARY TABLE catalogue_product_prices ON COMMIT DROP AS "
        "SELECT * FROM public.catalogue_product_prices WHERE product_id = ANY(:ids)"
    )
    unanswered = (
        "INSERT INTO catalogue_product_prices (product_id, currency, price, lead_time_days, "
        "offers, regions, fresh_until) VALUES ('prd_no_offer', 'CNY', 1, 1, 1, '{}', :later)"
    )
    with sessions() as session:
        session.execute(text(copied), {"ids": ids})
        session.execute(text(f"UPDATE catalogue_product_prices SET {unknown}"))
        session.execute(text(unanswered), {"later": china_today() + timedelta(days=9)})
        session.execute(text(migration._FILL))
        session.execute(text(migration._LAPSE_UNANSWERED))
        kept = session.execute(
            text(
                f"SELECT product_id, fresh_until, {', '.join(columns)} "
                "FROM catalogue_product_prices WHERE currency = 'CNY'"
            )
        ).all()
        session.rollback()
    by_id = {row.product_id: row for row in kept}
    assert by_id.pop("prd_no_offer").fresh_until == china_today()  # lapsed: asked of offers
    assert all(row.fresh_until > china_today() for row in by_id.values())  # each answered
    return [tuple(by_id[product_id][2:]) for product_id in ids]


async def test_a_sum_is_trusted_only_while_fresh_and_unlogged(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    ids = set(catalogue.ids.values())
    refreshed(sessions, ids)
    wrench = catalogue.ids["wrench"]

    def rewrite(**values: Any) -> None:
        with sessions() as session, session.begin():
            session.execute(
                update(CatalogueProductPrice)
                .where(CatalogueProductPrice.product_id == wrench)
                .values(**values)
            )

    async def shown() -> str:
        (hit,) = (await catalogue.search("活动扳手"))["results"]
        amount: str = hit["best_price"]["amount"]
        return amount

    # A fresh, unlogged sum is what search shows (written wrong here, to see which answered).
    rewrite(price=Decimal("1.00"))
    assert await shown() == "1.0000"
    # Lapsed today: asked of the offers.
    rewrite(fresh_until=china_today())
    assert await shown() == "45.0000"
    # The refresher sums a lapsed row again.
    refreshed(sessions, ids)
    while refresh_prices(sessions):
        pass
    assert price_of(sessions, wrench).price == Decimal("45")
    assert price_of(sessions, wrench).fresh_until > china_today()


async def test_a_standing_change_is_seen_before_the_refresher_runs(
    catalogue: Catalogue,
    api_url: str,
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    org = s.accredited_supplier(sessions, store)
    seller = TokenCaller(api_url, settings.jwt_secret, s.member(sessions, org, Role.SUPPLIER))
    cheaper = _listing(catalogue.category, "SUMMED-CHEAP", PRODUCTS[4])
    cheaper["offer"]["price_breaks"] = [{"min_quantity": "1", "unit_price": "99.00"}]
    response = await seller.http.put("/catalogue/listings/SUMMED-CHEAP", json=cheaper)
    assert response.status_code == 201, response.text
    precision = catalogue.ids["precision"]
    refreshed(sessions, {precision})
    assert (price_of(sessions, precision).price, price_of(sessions, precision).offers) == (
        Decimal("99"),
        2,
    )

    s.set_standing(sessions, org.id, "suspended")

    assert logged(sessions, {precision}) == {precision}  # by the standings' trigger
    (hit,) = (await catalogue.search("Wiha"))["results"]
    assert (hit["best_price"]["amount"], hit["visible_offers"]) == ("150.0000", 1)
    refreshed(sessions, {precision})
    assert (price_of(sessions, precision).price, price_of(sessions, precision).offers) == (
        Decimal("150"),
        1,
    )
    (hit,) = (await catalogue.search("Wiha"))["results"]
    assert (hit["best_price"]["amount"], hit["visible_offers"]) == ("150.0000", 1)


async def test_the_workers_refresher_sums_what_is_logged(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """``refresh_forever`` as the singletons worker runs it: a logged product summed, then
    stopped by its event."""
    acetone = catalogue.ids["acetone"]
    with sessions() as session, session.begin():
        session.add(CataloguePriceChange(product_id=acetone))
    stop = asyncio.Event()
    running = asyncio.create_task(refresh_forever(sessions, stop, poll_s=0.05))

    async def summed() -> bool:
        assert logged(sessions, {acetone}) == set()
        return True

    try:
        await eventually(summed, attempts=600)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)
    assert price_of(sessions, acetone).price == Decimal("30")


def test_a_sum_without_floors_is_summed_again(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """A sum written by a refresher older than migration 0033 (during an upgrade) has no
    floors, though fresh and unlogged: the next round sums it again."""
    wrench = catalogue.ids["wrench"]
    refreshed(sessions, {wrench})
    with sessions() as session, session.begin():
        session.execute(
            update(CatalogueProductPrice)
            .where(CatalogueProductPrice.product_id == wrench)
            .values(**dict.fromkeys(FLOORS))
        )
    for _ in range(1000):  # other modules' sums may be due first
        if price_of(sessions, wrench).floor_any is not None or not refresh_prices(sessions):
            break
    row = price_of(sessions, wrench)
    assert (row.floor_10, row.floor_any) == (Decimal(45), Decimal(36))


def _planner_counts(sessions: sessionmaker[Session]) -> float:
    with sessions() as session:
        thought = session.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = 'catalogue_price_changes'::regclass")
        )
    return float(thought or 0)


def _burst(sessions: sessionmaker[Session], probe: str, rows: int) -> None:
    """``rows`` changes of ``probe`` logged at once, and the planner told of them."""
    with sessions() as session, session.begin():
        session.execute(insert(CataloguePriceChange), [{"product_id": probe}] * rows)
        session.execute(text("ANALYZE catalogue_price_changes"))
    assert _planner_counts(sessions) >= rows


def test_the_round_that_drains_a_burst_analyses_the_log(sessions: sessionmaker[Session]) -> None:
    """The planner counted a burst in the log; once the refresher has taken it away, it counts
    what is left, not the burst, so search's list of untrusted products is planned for that."""
    probe = "prd_stale_statistics_probe"
    _burst(sessions, probe, STALE_LOG_ROWS + 500)
    refreshed(sessions, {probe})
    assert _planner_counts(sessions) < STALE_LOG_ROWS


def test_a_burst_of_whole_rounds_is_analysed_by_the_round_that_finds_the_log_empty(
    sessions: sessionmaker[Session],
) -> None:
    probe = "prd_stale_statistics_whole_rounds"
    while refresh_prices(sessions):  # what other modules logged, so the rounds are whole
        pass
    batch = STALE_LOG_ROWS
    autovacuum(sessions, enabled=False)  # its analyses would count the log between the rounds
    try:
        _burst(sessions, probe, 2 * batch)
        assert refresh_prices(sessions, batch=batch) == 1  # the probe, its first batch of changes
        assert refresh_prices(sessions, batch=batch) == 1  # its second: the log is empty now
        assert _planner_counts(sessions) >= 2 * batch  # each round read a whole batch
        refresh_prices(sessions, batch=batch)  # finds nothing to sum
        assert _planner_counts(sessions) < STALE_LOG_ROWS
    finally:
        autovacuum(sessions, enabled=True)


def autovacuum(sessions: sessionmaker[Session], *, enabled: bool) -> None:
    with sessions() as session, session.begin():
        session.execute(
            text(f"ALTER TABLE catalogue_price_changes SET (autovacuum_enabled = {enabled})")
        )
