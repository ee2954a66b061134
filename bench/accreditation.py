"""``python -m bench.accreditation``: the platform against bare baselines, as one table.

Every figure is paired with a baseline measured in the same process on the same machine, and the
ratio (platform time ÷ baseline time) is the number worth comparing between machines.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence

from bench.pdf import measure_pdf
from bench.rest import INBOX_PATH, measure_rest
from bench.services import quiet_logs, running_services
from bench.stats import Row, mean, percentile, print_header, require_counts, table
from bench.throughput import measure_throughput


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.accreditation", description=__doc__)
    parser.add_argument("--applications", type=int, default=30, help="concurrent accreditations")
    parser.add_argument("--requests", type=int, default=500, help="timed requests per endpoint")
    parser.add_argument("--renders", type=int, default=20, help="timed renders per document")
    arguments = parser.parse_args(argv)
    require_counts(parser, arguments, ("applications", "requests", "renders"))
    return arguments


async def _measure(arguments: argparse.Namespace) -> list[str]:
    n = arguments.applications
    async with running_services() as services:
        flow = await measure_throughput(services, applications=n)
        rest = await asyncio.to_thread(measure_rest, services, requests=arguments.requests)
    pdf = measure_pdf(renders=arguments.renders)

    shape = flow.shape
    activities = sum(shape.before) + sum(shape.after)
    ms = [s * 1000 for s in flow.platform.latencies_s]
    bare_ms = [s * 1000 for s in flow.baseline.latencies_s]
    inbox = f"GET /tasks, {rest.inbox_rows} rows:"
    rows = [
        Row(f"accreditations x{n}: wall time", "s", flow.platform.wall_s, flow.baseline.wall_s),
        Row(
            f"accreditations x{n}: throughput",
            "applications/s",
            n / flow.platform.wall_s,
            n / flow.baseline.wall_s,
            higher_is_better=True,
        ),
        *(
            Row(
                f"accreditations x{n}: start to accredited p{p}",
                "ms",
                percentile(ms, p),
                percentile(bare_ms, p),
            )
            for p in (50, 95)
        ),
        Row(f"{inbox} p50", "ms", percentile(rest.inbox_ms, 50), percentile(rest.constant_ms, 50)),
        Row(f"{inbox} p95", "ms", percentile(rest.inbox_ms, 95), percentile(rest.constant_ms, 95)),
        Row(
            "GET /auth/me: p50", "ms", percentile(rest.me_ms, 50), percentile(rest.constant_ms, 50)
        ),
        Row(
            "GET /auth/me: p95", "ms", percentile(rest.me_ms, 95), percentile(rest.constant_ms, 95)
        ),
        Row("certificate PDF render: mean", "ms", mean(pdf.certificate_ms), mean(pdf.one_line_ms)),
    ]
    return [
        f"accreditation path (recorded from a run): {activities} activities; concurrent batches "
        f"before the decision {'+'.join(map(str, shape.before))}, "
        f"after it {'+'.join(map(str, shape.after))}",
        f"update sent before the workflow held the task open, retried: "
        f"platform {flow.platform.stale_retries}, baseline {flow.baseline.stale_retries}",
        "",
        *table(rows),
        "",
        "baselines, same process and machine:",
        f"- accreditations: a bare workflow of {activities} no-op activities in the same "
        "concurrent batches and one update; same dev server, same worker settings",
        f"- {INBOX_PATH} and /auth/me (compliance officer's bearer token): "
        "GET of a bare FastAPI endpoint returning a constant; uvicorn in a thread, httpx "
        f"keep-alive, {arguments.requests} sequential requests each, interleaved",
        f"- certificate PDF: a one-line HTML page through weasyprint; {arguments.renders} "
        "renders each, interleaved",
        "ratio = platform time / baseline time (for throughput: baseline / platform)",
    ]


def main(argv: Sequence[str] | None = None) -> None:
    arguments = _arguments(argv)
    quiet_logs()
    began = time.perf_counter()
    print_header(
        "Tradeflow benchmarks",
        f"{arguments.applications} applications, {arguments.requests} requests per endpoint, "
        f"{arguments.renders} renders per document",
    )
    lines = asyncio.run(_measure(arguments))
    print("\n".join(lines))
    print(f"\nbenchmark took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
