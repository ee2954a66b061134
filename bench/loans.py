"""``python -m bench.loans``: what order-loan money handling costs on PostgreSQL, against bare
baselines in the same run, as one table.

On a migrated database of its own (the embedded PostgreSQL, as the other benchmarks) with a book
of loans written as the loan process leaves it (``bench.loans_data``, not timed), it measures
(``bench.loans_measures``): the ledger's price of being balanced by the database itself (the
deferred trigger checking every journal at commit); a buyer's repayment applied at the activity
level; an application's eligibility read at the API's edge; and the portfolio over the whole
book. No Temporal server, API process or bank is involved: each measure is the code the worker
or the route runs, called in this process. Ratio = platform time / baseline time (for rates:
baseline / platform).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bench.loans_data import BUYERS, PRINCIPAL, SPREAD_DAYS, TERM_DAYS, build_book
from bench.loans_measures import (
    bare_ledger,
    measure_eligibility,
    measure_ledger,
    measure_portfolio,
    measure_repayments,
)
from bench.services import KEY_ID, quiet_logs
from bench.stats import (
    Row,
    Samples,
    latency_rows,
    mean,
    print_header,
    require_counts,
    table,
)
from db.session import make_engine, make_session_factory
from security.columns import install_column_keyring
from security.keys import KeyRing, generate_key_spec
from storage.object_store import LocalObjectStore, ObjectStore
from tests.harness.postgres import fresh_database


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.loans", description=__doc__)
    parser.add_argument("--journals", type=int, default=20_000, help="ledger journals a side")
    parser.add_argument("--batch", type=int, default=100, help="journals a transaction")
    parser.add_argument("--repayments", type=int, default=2_000, help="timed repayments")
    parser.add_argument("--loans", type=int, default=200, help="the supplier's loans, repaid")
    parser.add_argument("--orders", type=int, default=1_000, help="the supplier's orders")
    parser.add_argument("--checks", type=int, default=500, help="timed eligibility checks")
    parser.add_argument("--book", type=int, default=10_000, help="loans in the portfolio")
    parser.add_argument("--portfolios", type=int, default=10, help="timed portfolios")
    arguments = parser.parse_args(argv)
    require_counts(parser, arguments)
    if arguments.journals % arguments.batch:
        parser.error("--journals must be a whole number of --batch")
    if arguments.orders <= arguments.loans:
        parser.error("--orders must be more than --loans: eligibility is checked on the rest")
    if arguments.book < arguments.loans:
        parser.error("--book must be at least --loans: the supplier's loans are in it")
    return arguments


def _say(message: str) -> None:
    """Progress on stderr: the table on stdout stays pasteable."""
    print(message, file=sys.stderr, flush=True)


@contextmanager
def _database() -> Iterator[tuple[Engine, sessionmaker[Session], ObjectStore]]:
    """A new migrated database (embedded PostgreSQL, or on ``TEST_DATABASE_URL``'s server),
    the column keyring the organisations' bank accounts need, and a local object store for the
    supplier's accreditation certificate."""
    install_column_keyring(KeyRing.parse(generate_key_spec(KEY_ID), active=KEY_ID))
    with (
        tempfile.TemporaryDirectory(prefix="tradeflow-bench-loans-") as folder,
        fresh_database(Path(folder)) as url,
    ):
        engine = make_engine(url)
        try:
            yield engine, make_session_factory(engine), LocalObjectStore(Path(folder) / "objects")
        finally:
            engine.dispose()


def _per_second(count: int, samples_ms: Sequence[float]) -> float:
    return count / (sum(samples_ms) / 1000)


def _rate(label: str, unit: str, count: int, samples: Samples) -> Row:
    """``count`` done in each side's summed time, as a rate."""
    return Row(
        label,
        unit,
        _per_second(count, samples.platform_ms),
        _per_second(count, samples.baseline_ms),
        higher_is_better=True,
    )


def _trigger_us(journals: int, samples: Samples) -> str:
    extra_ms = sum(samples.platform_ms) - sum(samples.baseline_ms)
    return f"{extra_ms * 1000 / journals:.0f} µs"


def main(argv: Sequence[str] | None = None) -> None:
    a = _arguments(argv)
    quiet_logs()
    began = time.perf_counter()
    print_header(
        "Tradeflow order-loan benchmark",
        f"{a.journals:,} journals a side, {a.batch} a transaction; "
        f"{a.repayments:,} repayments over {a.loans} loans; "
        f"{a.checks} eligibility checks ({a.orders:,} orders); "
        f"{a.portfolios} portfolios of {a.book:,} loans",
    )
    with _database() as (engine, sessions, store):
        _say("building the book ...")
        book = build_book(sessions, store, orders=a.orders, loans=a.loans, book_loans=a.book)
        _say(f"{book.loans:,} loans on file after {time.perf_counter() - began:.0f} s")
        ledger_ids = book.other_loans or tuple(loan.loan_id for loan in book.repaying)
        bare = bare_ledger(engine)
        ledger = measure_ledger(sessions, bare, ledger_ids, journals=a.journals, batch=a.batch)
        bulk = measure_ledger(
            sessions, bare, ledger_ids, journals=a.journals, batch=a.batch, bulk=True
        )
        _say(f"ledger done after {time.perf_counter() - began:.0f} s")
        repaid = measure_repayments(sessions, book, repayments=a.repayments)
        _say(f"repayments done after {time.perf_counter() - began:.0f} s")
        checked = measure_eligibility(sessions, book, runs=a.checks)
        portfolio = measure_portfolio(sessions, book, runs=a.portfolios)
    repayment = f"repayment x{a.repayments:,} over {a.loans} loans"
    eligible = f"eligibility, {a.orders:,} orders and {a.loans} loans"
    rows = [
        _rate(
            f"ledger, {a.journals:,} journals x 6 postings, {a.batch} a transaction",
            "journals/s",
            a.journals,
            ledger,
        ),
        _rate("same, as two multi-row INSERTs a transaction", "journals/s", a.journals, bulk),
        *latency_rows(repayment, repaid),
        _rate(f"{repayment}: throughput", "repayments/s", a.repayments, repaid),
        *latency_rows(eligible, checked),
        Row(
            f"portfolio over {book.loans:,} loans: mean",
            "ms",
            mean(portfolio.platform_ms),
            mean(portfolio.baseline_ms),
        ),
    ]
    lines = [
        "",
        *table(rows),
        "",
        "book (written as the loan process leaves it, not timed):",
        f"- {book.loans:,} loans of CNY {PRINCIPAL:,} on {TERM_DAYS}-day terms, a loan an "
        f"order, paid out over the last {SPREAD_DAYS} days (disbursed or overdue), each with "
        f"its assessment and its disbursement and fee journals; {BUYERS} buyers",
        f"- the eligibility supplier: accredited, {a.orders:,} invoiced orders, {a.loans} of "
        "them financed (the loans repaid); the other loans 200 a supplier",
        "baselines, same process and database, interleaved with the platform's calls:",
        "- ledger: the same post_journal calls, batches and session pattern on a copy of "
        "ledger_journals and ledger_postings (LIKE .. INCLUDING ALL, same foreign keys) in a "
        "schema of its own, without the triggers; then the same rows as one INSERT of the "
        "batch's journals and one of their postings (the database's own cost)",
        "- repayment: LoanActivities' apply_repayment through ActivityEnvironment, lock, "
        "accrual and split, remittance left out (another activity, the bank's); baseline one "
        "bare post_journal of 6 postings a transaction",
        f"- eligibility: db.loan_facts.eligibility in a session of its own, as the API's edge "
        f"(no lock); baseline the order read by its key; {checked.notes[0]}",
        "- portfolio: api.routes.finance.get_portfolio with its answer serialised to JSON; "
        "baseline SELECT count(*) FROM loans",
        f"- {repaid.notes[0]}",
        "- the balance trigger's cost a journal (platform less baseline): "
        f"{_trigger_us(a.journals, ledger)} through post_journal, "
        f"{_trigger_us(a.journals, bulk)} in multi-row INSERTs",
        "ratio = platform time / baseline time (for rates, baseline / platform)",
        f"\nbenchmark took {time.perf_counter() - began:.0f} s",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
