"""``python -m bench.catalogue_shapes``: catalogue searches with their statements kept by shape
(``db.catalogue_shapes``, the platform) against the same searches with every statement built
afresh, as each search built them before (the baseline), interleaved in one process through the
real app, on ``bench.catalogue_search``'s catalogue (a million products; seed it with that
benchmark or ``make bench-catalogue``). Below 1x, keeping is faster.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.catalogue_search import BUYER_EMAIL, cases, seeded_catalogue
from bench.large import _connect, large_settings
from bench.seed_large import KEY_ID, key_spec
from bench.stats import Row, latency_rows, print_header, require_counts, table
from bench.workbench_measures import interleaved, platform_app, signed_in
from db.catalogue_shapes import SHAPES
from db.migrate import ROOT


async def _run(url: str, spec: str, runs: int) -> list[Row]:
    connection = _connect(url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT model FROM products WHERE id = 'prd_l0000042'")
        ((model,),) = cursor.fetchall()
    connection.close()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="tradeflow-bench-shapes-") as folder:
        app = await platform_app(large_settings(folder, url, spec, KEY_ID))
        person = await signed_in(app, BUYER_EMAIL)
        try:
            for case in cases(model):

                async def search(keeping: bool, params: dict[str, str] = case.params) -> None:
                    SHAPES.keeping = keeping
                    reply = await person.api.get("/catalogue/search", params=params)
                    if reply.status_code != 200:
                        raise RuntimeError(f"{reply.status_code} {reply.text[:200]}")

                async def kept(_: int) -> None:
                    await search(True)

                async def afresh(_: int) -> None:
                    await search(False)

                rows.extend(latency_rows(case.label, await interleaved(kept, afresh, runs)))
        finally:
            SHAPES.keeping = True
            await person.pages.aclose()
            await person.api.aclose()
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.catalogue_shapes", description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / ".data" / "catalogue")
    parser.add_argument("--runs", type=int, default=30, help="timed searches of each query")
    a = parser.parse_args(argv)
    require_counts(parser, a, ["runs"])
    with seeded_catalogue(parser, a.data) as url:
        print_header(
            "Tradeflow catalogue statements kept by shape (bench.catalogue_shapes)",
            f"{a.runs} searches of each query after warm-up, interleaved; platform: statements "
            "kept by shape, baseline: built afresh",
        )
        print("\n".join(["", *table(asyncio.run(_run(url, key_spec(a.data), a.runs))), ""]))


if __name__ == "__main__":
    main()
