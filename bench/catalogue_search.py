"""``python -m bench.catalogue_search``: catalogue search over a million products and three
million offers (issue 14), each query against a bare indexed SQL query on the same rows.

The catalogue (``bench.catalogue_seed``) goes into an embedded PostgreSQL of its own
(``--data``, default ``.data/catalogue``), set up as ``bench.seed_large`` sets up its dataset
(migrations, the demo organisations, suppliers and their standing); ``--products`` makes it
smaller where a million takes too long. A database already seeded is kept unless ``--fresh``.

The app is the real one over httpx's ASGI transport, asked by the demo buyer (``bench.large``'s
way). The baseline is what a client holding the database would run for the same page: the
matching products by their GIN-indexed terms (or the trigram index, for a misspelling), joined to
the visible offers, grouped for the best price, the first page by price; no synonyms, no
relevance, no facets, no explanation, no JSON. Where the search sorts by price its page is
checked against the baseline's rows, so a fast wrong answer cannot pass. The goal: p99 < 50 ms.

Then a few broad searches again at midnight, China time, as it were: a day's summed prices lapse
together then, and the benchmark lapses the next day's before searching again, the offers that
lapse that day with them (so a lapsed sum is below its product's price, as at midnight), then
gives the offers back and sums them as the refresher would. Their rows are printed apart from
the goal: a window of seconds a day, watched so that it stays as fast as the rest (the README's
known limitations say where it is not).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import catalogue_seed
from bench import large_data as data
from bench.large import Baseline, _connect, large_settings
from bench.large_copy import write_accreditation
from bench.seed_large import (
    KEY_ID,
    _create,
    database_url,
    key_spec,
    large_server,
    write_steps,
)
from bench.services import quiet_logs
from bench.stats import Row, Samples, latency_rows, print_header, require_counts, table
from bench.workbench_measures import Person, interleaved, platform_app, signed_in
from db.catalogue_prices import refresh_prices
from db.migrate import ROOT, migrate
from db.seed import seed_demo
from db.session import make_engine, make_session_factory
from rules.search_text import parse_query
from rules.waybill_parties import china_today
from security.columns import install_column_keyring
from security.keys import KeyRing

GOAL_P99_MS = 50.0
# A day's sums lapse together at midnight in China: these searches are measured again with the
# next day's lapsed, until the refresher has summed them again (apart from the goal).
MIDNIGHT = "at midnight, "
AT_MIDNIGHT = (
    "broad, by price: 螺丝刀",
    "broad, by lead time: 螺丝刀",
    "broad to a province, by price: 螺丝刀 CN-JS",
    "broad at 100, by price: 螺丝刀",
    "brand and noun, by price: Bosch 扳手",
)
BUYER_EMAIL = "buyer@huadong.example"
SUPPLIERS = 2_000
LIMIT = 20


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def seed(url: str, *, products: int, offers: int, seed_value: int) -> None:
    migrate(url)
    with make_session_factory(make_engine(url, pool_size=1))() as session:
        seed_demo(session)
        session.commit()
    sizes = data.Sizes.at(SUPPLIERS / 100_000)
    steps = (
        ("suppliers", lambda c: data.write_organisations(c, sizes)),
        ("accreditation", lambda c: write_accreditation(c, sizes, seed=seed_value)),
        ("categories", catalogue_seed.write_categories),
        ("products", lambda c: catalogue_seed.write_products(c, products, seed=seed_value)),
        ("offers", lambda c: catalogue_seed.write_offers(c, products, offers, sizes.suppliers)),
        ("vocabulary", catalogue_seed.write_vocabulary),
    )
    write_steps(url, steps, seed_value=seed_value)


def summed_prices(url: str) -> None:
    """The products' prices summed (``db.catalogue_prices``), as the worker's refresher keeps
    them, until nothing is left logged."""
    sessions = make_session_factory(make_engine(url, pool_size=1))
    began, products = time.perf_counter(), 0
    while refreshed := refresh_prices(sessions, batch=50_000):
        products += refreshed
    if products:
        rate = products / (time.perf_counter() - began)
        _say(f"prices summed for {products:,} products ({rate:,.0f} a second)")
        # As autovacuum soon would on a live database, which the benchmark's server is not
        # between runs: the drained log was an empty table of 6,000 pages that every broad
        # search by price read through (13 ms), and the fresh sums' pages not all-visible.
        connection = _connect(url)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) catalogue_price_changes, catalogue_product_prices")
        connection.close()


LIST_PRICE = "min(o.list_price)"  # a product's price in the bare query, but at a quantity
BARE = (
    "SELECT p.id, {price} AS price FROM products p "
    "JOIN catalogue_offers o ON o.product_id = p.id "
    "WHERE {match} AND o.valid_until >= %(today)s AND o.currency = 'CNY' "
    "AND o.supplier_org_id IN (SELECT supplier_org_id FROM supplier_accreditations "
    "WHERE status = 'accredited' AND expires_on > %(today)s) "
    "GROUP BY p.id ORDER BY price, p.id LIMIT %(limit)s"
)


@dataclass
class Case:
    label: str
    params: dict[str, str]
    match: str  # the baseline's WHERE on products
    match_params: dict[str, Any] = field(default_factory=dict)
    compare: bool = False  # the search sorts by price: its page is the baseline's rows
    price: str = LIST_PRICE  # the baseline's price of a product


def _terms(query: str) -> list[str]:
    """Every exact term the search requires of a product for ``query`` (no synonym found)."""
    return sorted({t for g in parse_query(query, []).groups for t in g.alternatives[0].terms})


def _exact(label: str, q: str, **params: str) -> Case:
    return Case(
        label,
        {"q": q, **params},
        "p.terms @> %(terms)s::text[]",
        {"terms": _terms(q)},
        compare=params.get("sort") == "price",
    )


def _narrowed(label: str, params: dict[str, str], condition: str) -> Case:
    """螺丝刀 by price, narrowed by ``params``; the baseline narrowed by ``condition``."""
    return Case(
        label,
        {"q": "螺丝刀", **params, "sort": "price"},
        f"p.terms @> %(terms)s::text[] AND {condition}",
        {"terms": _terms("螺丝刀")},
        compare=True,
    )


def _at(quantity: str, sort: str) -> Case:
    """螺丝刀 at ``quantity``; the baseline prices each offer at the break it reaches, read from
    the same arrays as the search (migration 0031)."""
    return Case(
        f"broad at {quantity}, by {sort.replace('_', ' ')}: 螺丝刀",
        {"q": "螺丝刀", "quantity": quantity, "sort": sort},
        f"p.terms @> %(terms)s::text[] AND o.min_order_quantity <= {quantity}",
        {"terms": _terms("螺丝刀")},
        compare=sort == "price",
        price=(
            f"min(coalesce(o.break_prices[width_bucket({quantity}, o.break_quantities)], "
            "o.list_price))"
        ),
    )


def cases(model: str) -> list[Case]:
    return [
        _exact("narrow, by price: 十字螺丝刀 5mm", "十字螺丝刀 5mm", sort="price"),
        _exact("narrow, relevance: 十字螺丝刀 5mm", "十字螺丝刀 5mm"),
        _exact("brand and noun, by price: Bosch 扳手", "Bosch 扳手", sort="price"),
        _exact("full-width size and noun: ５ｍｍ 活动扳手", "５ｍｍ 活动扳手"),  # noqa: RUF001
        _exact("a model number, spaced: " + model, model.replace("-", " ")),
        _exact("broad, by price: 螺丝刀", "螺丝刀", sort="price"),
        _exact("broad, relevance: 螺丝刀", "螺丝刀"),
        _exact("broad, by lead time: 螺丝刀", "螺丝刀", sort="lead_time"),
        _narrowed("broad, one brand, by price: 螺丝刀 Stanley", {"brand": "Stanley"},
                  "lower(p.brand) = 'stanley'"),
        _narrowed("broad to a province, by price: 螺丝刀 CN-JS", {"region": "CN-JS"},
                  "o.delivery_regions && ARRAY['CN-JS', 'CN']::varchar[]"),
        _narrowed("broad in stock, by price: 螺丝刀", {"in_stock": "true"}, "o.stock >= 0.001"),
        _at("10", "price"),
        _at("100", "price"),
        _at("10", "lead_time"),
        Case(
            "misspelt: stainles screwdrivr",
            {"q": "stainles screwdrivr"},
            "'stainles' <%% p.search_text AND 'screwdrivr' <%% p.search_text",
        ),
        Case("misspelt brand: stanly", {"q": "stanly"}, "'stanly' <%% p.search_text"),
        Case(
            "category browse, by price: acetone",
            {"category": "acetone", "sort": "price"},
            "p.category_id = 'acetone'",
            compare=True,
        ),
        _exact("filtered: 螺栓 M8 Stanley CN-JS ≤ 100", "螺栓", brand="Stanley",
               region="CN-JS", price_max="100"),
    ]  # fmt: skip


def _check(case: Case, answer: httpx.Response, expected: list[tuple[Any, ...]]) -> None:
    _answered(answer, case.label)
    if not case.compare:
        return
    got = [hit["product_id"] for hit in answer.json()["results"]]
    if got != [row[0] for row in expected]:
        raise RuntimeError(f"{case.label}: the page is not the baseline's rows")


def _answered(reply: httpx.Response, label: str) -> None:
    if reply.status_code != 200:
        raise RuntimeError(f"{label}: {reply.status_code} {reply.text[:300]}")


async def _first_pages(
    person: Person, base: Baseline, case: Case, runs: int, *, prefix: str = ""
) -> tuple[list[Row], str]:
    """``case``'s first page, checked against the baseline's rows where it sorts by price, then
    timed interleaved with the baseline (and its second page, where it has one, checked the
    same way), its rows' labels after ``prefix``; and what the first page held."""
    label = prefix + case.label
    sql = BARE.format(match=case.match, price=case.price)
    sql_params = {"today": china_today(), "limit": LIMIT, **case.match_params}
    first = await person.api.get("/catalogue/search", params=case.params)
    _check(case, first, base.run(sql, sql_params))
    cursor: str | None = first.json()["next_cursor"]
    held = f"{label}: {len(first.json()['results'])} on the first page" + (
        ", more after" if cursor else ""
    )

    async def platform(_: int) -> None:
        _answered(await person.api.get("/catalogue/search", params=case.params), label)

    async def baseline(_: int) -> None:
        base.run(sql, sql_params)

    began = time.perf_counter()
    samples: Samples = await interleaved(platform, baseline, runs)
    _say(f"{label}: {time.perf_counter() - began:.1f} s")
    rows = latency_rows(label, samples)
    if cursor and case.compare:
        paged = {**case.params, "cursor": cursor}
        second = await person.api.get("/catalogue/search", params=paged)
        _check(case, second, base.run(sql, {**sql_params, "limit": 2 * LIMIT})[LIMIT:])

        async def next_page(_: int) -> None:
            _answered(await person.api.get("/catalogue/search", params=paged), label)

        samples = await interleaved(next_page, baseline, runs)
        rows.extend(latency_rows(f"{prefix or '  '}its second page (no facets)", samples))
    return rows, held


@dataclass(frozen=True)
class Lapse:
    """A day's lapse made now (``_lapse_a_day``): the day, the sums lapsed, the offers moved."""

    day: date
    sums: int
    offers: list[str]


def _lapse_a_day(base: Baseline) -> Lapse:
    """The next day's lapse, made now, as it comes at midnight in China: each product's sum
    holds until its first offer lapses, so the offers whose last valid day is the eve of the
    next lapse are moved to yesterday (no longer visible, each product's price now its next
    offer's) and their sums lapse with them. The change log those writes leave is taken away:
    a day passing writes none. (A supplier's expiry that day is left as it was.)

    Nor does a day passing write the sums or offers themselves: their rows stay visible to
    every transaction, so an index answers alone, and the planner's statistics already hold
    their days. The UPDATEs that make the lapse here leave neither, so both tables are
    vacuumed and analysed after them."""
    today = china_today()
    with _transaction(base.connection):
        lapse = _lapsing(base, today)
    with base.connection.cursor() as cursor:
        cursor.execute(
            "VACUUM (ANALYZE) catalogue_product_prices, catalogue_offers, catalogue_price_changes"
        )
    return lapse


def _lapsing(base: Baseline, today: date) -> Lapse:
    ((day,),) = base.run(
        "SELECT min(fresh_until) FROM catalogue_product_prices WHERE fresh_until > %(today)s",
        {"today": today},
    )
    lapsed = [p for (p,) in base.run(LAPSE_SUMS, {"today": today, "day": day})]
    moved = base.run(
        LAPSE_OFFERS, {"products": lapsed, "eve": day - timedelta(days=1), "today": today}
    )
    base.run(
        "DELETE FROM catalogue_price_changes WHERE product_id = ANY(%(products)s) RETURNING 1",
        {"products": lapsed},
    )
    return Lapse(day, len(lapsed), [offer for (offer,) in moved])


LAPSE_SUMS = (
    "UPDATE catalogue_product_prices SET fresh_until = %(today)s WHERE fresh_until = %(day)s"
    " RETURNING product_id"
)
LAPSE_OFFERS = (
    "UPDATE catalogue_offers SET valid_until = %(today)s - 1"
    " WHERE product_id = ANY(%(products)s) AND valid_until = %(eve)s RETURNING id"
)


@contextmanager
def _transaction(connection: Any) -> Iterator[None]:
    """The statements within on ``connection`` (autocommit otherwise) committed together, or
    none of them."""
    connection.autocommit = False
    try:
        with connection:
            yield
    finally:
        connection.autocommit = True


def _restore(base: Baseline, lapse: Lapse) -> None:
    """The offers ``_lapse_a_day`` moved given back their last valid day (logged, so summed
    again with the lapsed sums)."""
    base.run(
        "UPDATE catalogue_offers SET valid_until = %(eve)s WHERE id = ANY(%(offers)s) RETURNING 1",
        {"eve": lapse.day - timedelta(days=1), "offers": lapse.offers},
    )


async def _run(url: str, spec: str, runs: int, only: str) -> tuple[list[Row], list[str]]:
    with tempfile.TemporaryDirectory(prefix="tradeflow-bench-catalogue-") as folder:
        app = await platform_app(large_settings(folder, url, spec, KEY_ID))
        base = Baseline(_connect(url))
        person = await signed_in(app, BUYER_EMAIL)
        rows: list[Row] = []
        notes: list[str] = []
        ((model,),) = base.run("SELECT model FROM products WHERE id = 'prd_l0000042'", {})
        measured_cases = [c for c in cases(model) if only in c.label]
        try:
            for case in measured_cases:
                measured, held = await _first_pages(person, base, case, runs)
                rows.extend(measured)
                notes.append(held)
            lapse: Lapse | None = None
            try:
                lapse = _lapse_a_day(base)
                notes.append(
                    f"{MIDNIGHT}a day's sums lapsed ({lapse.sums:,}) with the offers lapsing"
                    f" that day ({len(lapse.offers):,}), before the refresher sums them again"
                )
                for case in (c for c in measured_cases if c.label in AT_MIDNIGHT):
                    measured, held = await _first_pages(person, base, case, runs, prefix=MIDNIGHT)
                    rows.extend(measured)
                    notes.append(held)
            finally:
                if lapse is not None:
                    _restore(base, lapse)
                summed_prices(url)
        finally:
            await person.pages.aclose()
            await person.api.aclose()
            base.connection.close()
    return rows, notes


def measure(url: str, spec: str, *, runs: int, only: str = "") -> None:
    quiet_logs()
    print_header(
        "Tradeflow catalogue search benchmark (bench.catalogue_search)",
        f"{runs} searches of each query after warm-up, interleaved with its bare SQL; "
        f"{LIMIT} products a page, facets on first pages",
    )
    connection = _connect(url)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relname IN "
            "('products', 'catalogue_offers', 'supplier_accreditations') ORDER BY relname"
        )
        print("rows (planner estimates): " + ", ".join(f"{n} {c:,}" for n, c in cursor))
    connection.close()
    rows, notes = asyncio.run(_run(url, spec, runs, only))
    print("\n".join(["", *notes, "", *table(rows), ""]))
    held = [r for r in rows if r.label.endswith("p99") and not r.label.startswith(MIDNIGHT)]
    over = [r.label for r in held if r.platform > GOAL_P99_MS]
    print(
        f"goal: every search's p99 under {GOAL_P99_MS:.0f} ms: "
        + ("met" if not over else f"missed by {len(over)} of {len(held)}: " + "; ".join(over))
    )
    print(f"{MIDNIGHT}rows: measured apart, not held to the goal (README: known limitations)")


@contextmanager
def seeded_catalogue(parser: argparse.ArgumentParser, data: Path) -> Iterator[str]:
    """The URL of the catalogue this benchmark seeded in ``data``, its server running and the
    latest migrations applied (for the benchmarks that search it again)."""
    if not (data / "pg").exists():
        parser.error(f"no catalogue in {data}: run python -m bench.catalogue_search first")
    quiet_logs()
    install_column_keyring(KeyRing.parse(key_spec(data), active=KEY_ID))
    with large_server(data / "pg") as server_url:
        url = database_url(server_url)
        migrate(url)  # a catalogue seeded before the latest migrations
        yield url


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.catalogue_search", description=__doc__)
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--offers-per-product", type=int, default=3)
    parser.add_argument("--data", type=Path, default=ROOT / ".data" / "catalogue")
    parser.add_argument("--fresh", action="store_true", help="drop a seeded database first")
    parser.add_argument("--seed", type=int, default=14, help="the data's random seed")
    parser.add_argument("--runs", type=int, default=30, help="timed searches of each query")
    parser.add_argument("--no-bench", action="store_true", help="seed only, do not measure")
    parser.add_argument(
        "--only", default="", help="measure only the searches whose label holds this text"
    )
    a = parser.parse_args(argv)
    require_counts(parser, a, ["products", "offers_per_product", "runs"])
    install_column_keyring(KeyRing.parse(key_spec(a.data), active=KEY_ID))
    with large_server(a.data / "pg") as server_url:
        url = database_url(server_url)
        if _create(server_url, fresh=a.fresh):
            offers = a.products * a.offers_per_product
            _say(f"seeding {a.products:,} products and {offers:,} offers into {a.data} ...")
            seed(url, products=a.products, offers=offers, seed_value=a.seed)
        else:
            _say(f"the catalogue in {a.data} is seeded already (--fresh to seed again)")
            migrate(url)  # a dataset seeded before the latest migrations
        summed_prices(url)
        if not a.no_bench:
            measure(url, key_spec(a.data), runs=a.runs, only=a.only)


if __name__ == "__main__":
    main()
