"""``python -m bench.catalogue_mix``: catalogue searches as buyers type them, drawn from the
products' own names, over the million-product catalogue of ``bench.catalogue_search``.

That benchmark times a dozen chosen queries, each many times; this one times many queries once
each: one to three words of a product's name (sizes among them, as 300毫米 or a full-width
4mm), a letter left out of one in five, and a sort, a brand, a province or a price ceiling now
and then, all drawn with a fixed seed. Its tail is where a search that goes wrong for some kind
of query shows (a bare unit, a size alone, a province: each took seconds before it was mended).
Every query runs twice, first as a new shape of statement, then again. The baseline,
interleaved, is the bare indexed query of ``bench.catalogue_search`` for the words as typed (the
products holding their terms, with their best visible offer, the first page by price).

``--data`` and the seeding are ``bench.catalogue_search``'s: run that first (``make
bench-catalogue``), or it is seeded here.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.catalogue_search import BARE, BUYER_EMAIL, LIMIT, LIST_PRICE, _terms, seeded_catalogue
from bench.large import Baseline, _connect, large_settings
from bench.seed_large import KEY_ID, key_spec
from bench.stats import Row, Samples, latency_rows, mean, print_header, require_counts, table
from bench.workbench_measures import interleaved, platform_app, signed_in
from db.migrate import ROOT
from rules.waybill_parties import china_today

SEED = 7
MATCH = "p.terms @> %(terms)s::text[]"
POINTS = (50, 90, 99)


def queries(names: Sequence[str], brands: Sequence[str], count: int) -> list[dict[str, str]]:
    """``count`` searches drawn from products' names, with a fixed seed."""
    rng = random.Random(SEED)
    drawn = []
    for _ in range(count):
        words = rng.choice(names).split()
        q = " ".join(rng.sample(words, min(len(words), rng.choice((1, 1, 2, 2, 3)))))
        if rng.random() < 0.2 and len(q) > 4:  # a letter left out
            at = rng.randrange(len(q))
            q = q[:at] + q[at + 1 :]
        params = {"q": q}
        if rng.random() < 0.4:
            params["sort"] = rng.choice(("price", "lead_time"))
        if rng.random() < 0.2:
            params["brand"] = rng.choice(brands)
        if rng.random() < 0.15:
            params["region"] = "CN-JS"
        if rng.random() < 0.15:
            params["price_max"] = "100"
        drawn.append(params)
    return drawn


async def _run(url: str, spec: str, count: int) -> tuple[list[Row], list[str]]:
    base = Baseline(_connect(url))
    sampled = "SELECT name FROM products TABLESAMPLE SYSTEM (0.2) REPEATABLE (7)"
    names = [name for (name,) in base.run(sampled, {})]
    first = "SELECT DISTINCT brand FROM products ORDER BY brand LIMIT 50"
    drawn = queries(names, [brand for (brand,) in base.run(first, {})], count)
    today = china_today()
    with tempfile.TemporaryDirectory(prefix="tradeflow-bench-mix-") as folder:
        app = await platform_app(large_settings(folder, url, spec, KEY_ID))
        person = await signed_in(app, BUYER_EMAIL)
        rows: list[Row] = []
        slowest: list[str] = []
        try:
            for label in ("first sight", "again"):

                async def platform(i: int) -> None:
                    reply = await person.api.get("/catalogue/search", params=drawn[i])
                    if reply.status_code not in (200, 422):  # 422: no words left to search
                        raise RuntimeError(f"{drawn[i]}: {reply.status_code} {reply.text[:200]}")

                async def baseline(i: int) -> None:
                    terms: Any = {"terms": _terms(drawn[i]["q"]), "today": today, "limit": LIMIT}
                    base.run(BARE.format(match=MATCH, price=LIST_PRICE), terms)

                samples: Samples = await interleaved(platform, baseline, count, warmup=0)
                took = samples.platform_ms
                rows.extend(latency_rows(f"{count} searches, {label}", samples, POINTS))
                means = mean(samples.platform_ms), mean(samples.baseline_ms)
                rows.append(Row(f"{count} searches, {label}: mean", "ms", *means))
            worst = sorted(zip(took, drawn, strict=True), key=lambda pair: -pair[0])[:10]
            slowest = [f"{ms:8.1f} ms  {params}" for ms, params in worst]
        finally:
            await person.pages.aclose()
            await person.api.aclose()
            base.connection.close()
    return rows, slowest


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.catalogue_mix", description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / ".data" / "catalogue")
    parser.add_argument("--searches", type=int, default=400, help="searches drawn")
    a = parser.parse_args(argv)
    require_counts(parser, a, ["searches"])
    with seeded_catalogue(parser, a.data) as url:
        print_header(
            "Tradeflow catalogue search mix (bench.catalogue_mix)",
            f"{a.searches} searches drawn from product names (seed {SEED}), each once, twice over",
        )
        rows, slowest = asyncio.run(_run(url, key_spec(a.data), a.searches))
    print("\n".join(["", *table(rows), "", "slowest, again:", *slowest, ""]))


if __name__ == "__main__":
    main()
