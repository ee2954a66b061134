"""The order-loan benchmark's four measures, each interleaved with its baseline in the same
process on the same database, so a busy moment costs both sides alike.

1. The ledger balanced by the database: journals of six postings booked through
   ``db.finance.post_journal`` in batches, against the same calls on an identical copy of the two
   tables without the triggers (same names in a schema of their own, so the very same function
   books both: ``schema_translate_map``).
2. A repayment at the activity level (``apply_repayment`` through ``ActivityEnvironment``; the
   remittance is another activity and left out) against a bare ``post_journal`` call.
3. Eligibility as the API reads it at the edge (``db.loan_facts.eligibility``, no lock) against a
   primary-key read of the order.
4. The portfolio (``api.routes.finance.get_portfolio``, its answer serialised as the route sends
   it) against ``SELECT count(*) FROM loans``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.loan_ledger import LoanLedger
from api.routes.finance import get_portfolio
from bench.loans_data import REPAYING_DISBURSED_DAYS_AGO, Book
from bench.stats import Samples
from contracts.common import OPERATOR_ORG_ID, Actor, Money, Role
from contracts.finance import LoanApplication, RepaymentInput
from db.finance import Account, Journal, JournalKind, Posting, post_journal
from db.loan_facts import eligibility
from db.models import Order
from db.session import make_session_factory, transaction

BARE_SCHEMA = "bench_ledger"
# A repayment's six postings (the bank debited; penalty, interest, fee, principal and the
# supplier's rest credited), balanced.
REPAYMENT_LINES = [
    (Account.BANK, Decimal("20000.00")),
    (Account.PENALTY_RECEIVABLE, Decimal("-15.00")),
    (Account.INTEREST_RECEIVABLE, Decimal("-1333.33")),
    (Account.FEE_RECEIVABLE, Decimal("-5000.00")),
    (Account.PRINCIPAL, Decimal("-13000.00")),
    (Account.SUPPLIER_PAYABLE, Decimal("-651.67")),
]
REPAYMENT = Decimal("20000.00")
WARMUP = 20  # untimed calls of each side before a measure's samples


def _ms(call: Callable[[int], object], i: int) -> float:
    began = time.perf_counter()
    call(i)
    return (time.perf_counter() - began) * 1000


def _interleaved(
    platform: Callable[[int], object],
    baseline: Callable[[int], object],
    runs: int,
    *,
    warmup: int = WARMUP,
) -> Samples:
    """``runs`` calls of each after ``warmup`` untimed ones, alternating which goes first; call
    ``i`` of a side gets ``i`` (warm-ups first)."""
    samples = Samples()
    for i in range(warmup + runs):
        first, second = (platform, baseline) if i % 2 == 0 else (baseline, platform)
        a, b = _ms(first, i), _ms(second, i)
        if i >= warmup:
            platform_ms, baseline_ms = (a, b) if i % 2 == 0 else (b, a)
            samples.platform_ms.append(platform_ms)
            samples.baseline_ms.append(baseline_ms)
    return samples


def _book_repayment_journal(session: Session, journal_id: str, loan_id: str) -> None:
    post_journal(
        session,
        journal_id=journal_id,
        loan_id=loan_id,
        kind=JournalKind.REPAYMENT,
        booked_on=datetime.now(UTC).date(),
        memo=f"the buyer's payment {journal_id}",
        currency="CNY",
        lines=REPAYMENT_LINES,
        bank_reference=f"PAY-{journal_id[-12:]}",
    )


def bare_ledger(engine: Engine) -> sessionmaker[Session]:
    """``ledger_journals`` and ``ledger_postings`` again in a schema of their own: columns,
    defaults, checks and indexes (``LIKE .. INCLUDING ALL``) and the same foreign keys, without
    the triggers (the deferred balance check and the append-only guards); and sessions whose
    statements name those tables for the ledger's, so ``db.finance`` itself books into them."""
    with engine.begin() as connection:
        for statement in (
            f"CREATE SCHEMA {BARE_SCHEMA}",
            f"CREATE TABLE {BARE_SCHEMA}.ledger_journals (LIKE public.ledger_journals "
            "INCLUDING ALL)",
            f"CREATE TABLE {BARE_SCHEMA}.ledger_postings (LIKE public.ledger_postings "
            "INCLUDING ALL)",
            f"ALTER TABLE {BARE_SCHEMA}.ledger_journals ADD FOREIGN KEY (loan_id) "
            "REFERENCES public.loans (id)",
            f"ALTER TABLE {BARE_SCHEMA}.ledger_postings ADD FOREIGN KEY (journal_id) "
            f"REFERENCES {BARE_SCHEMA}.ledger_journals (id)",
        ):
            connection.execute(text(statement))
        triggers = connection.execute(
            text(
                "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :schema AND NOT t.tgisinternal"
            ),
            {"schema": BARE_SCHEMA},
        ).scalar_one()
    if triggers:
        raise RuntimeError(f"the bare ledger has {triggers} trigger(s): it must have none")
    return make_session_factory(engine.execution_options(schema_translate_map={None: BARE_SCHEMA}))


def _post_batch(session: Session, journals: Sequence[tuple[str, str]]) -> None:
    """(journal id, loan id) each booked by its own ``post_journal`` call, as the steps do."""
    for journal_id, loan_id in journals:
        _book_repayment_journal(session, journal_id, loan_id)


def _insert_batch(session: Session, journals: Sequence[tuple[str, str]]) -> None:
    """The same rows as ``_post_batch``, as one INSERT of the journals and one of their
    postings: the client's cost a journal all but gone, what is left is the database's."""
    today = datetime.now(UTC).date()
    journal_rows = [
        {
            "id": journal_id,
            "loan_id": loan_id,
            "kind": JournalKind.REPAYMENT.value,
            "booked_on": today,
            "memo": f"the buyer's payment {journal_id}",
            "bank_reference": f"PAY-{journal_id[-12:]}",
        }
        for journal_id, loan_id in journals
    ]
    posting_rows = [
        {"journal_id": journal_id, "account": account.value, "amount": amount, "currency": "CNY"}
        for journal_id, _ in journals
        for account, amount in REPAYMENT_LINES
    ]
    session.execute(insert(Journal), journal_rows)
    session.execute(insert(Posting), posting_rows)


def measure_ledger(
    sessions: sessionmaker[Session],
    bare: sessionmaker[Session],
    loan_ids: Sequence[str],
    *,
    journals: int,
    batch: int,
    bulk: bool = False,
) -> Samples:
    """Each batch's milliseconds: ``batch`` journals a transaction (a ``post_journal`` call
    each, or with ``bulk`` two multi-row INSERTs) on the balanced ledger and on the bare copy
    (``bare_ledger``) in turn, after one warm-up batch each (a batch is already many calls)."""
    book_batch = _insert_batch if bulk else _post_batch
    tag = "-bulk" if bulk else ""

    def booker(factory: sessionmaker[Session], side: str) -> Callable[[int], None]:
        def book(index: int) -> None:
            ids = [
                (f"bench:{side}{tag}:{n:06d}", loan_ids[n % len(loan_ids)])
                for n in range(index * batch, (index + 1) * batch)
            ]
            with transaction(factory) as session:
                book_batch(session, ids)

        return book

    return _interleaved(
        booker(sessions, "ledger"), booker(bare, "bare"), journals // batch, warmup=1
    )


def measure_repayments(sessions: sessionmaker[Session], book: Book, *, repayments: int) -> Samples:
    """``repayments`` buyer payments through ``apply_repayment``, the loans in turn so each
    loan's payments come in date order, against as many bare journals of six postings, one a
    transaction, on the same loans."""
    loans = book.repaying
    ledger = LoanLedger(sessions)  # the ledger steps LoanActivities inherits, as the worker runs
    env = ActivityEnvironment()
    per_loan = -(-(WARMUP + repayments) // len(loans))
    step = max(1, REPAYING_DISBURSED_DAYS_AGO // (per_loan + 1))

    def payment(i: int) -> RepaymentInput:
        loan, k = loans[i % len(loans)], i // len(loans)
        return RepaymentInput(
            loan_id=loan.loan_id,
            payment_id=f"{loan.order_id}:payment-{k + 1}",
            amount=Money(amount=REPAYMENT, currency="CNY"),
            paid_on=loan.disbursed_on + timedelta(days=step * (k + 1)),
            reference=f"PAY-{uuid.uuid4().hex[:12]}",
        )

    payments = [payment(i) for i in range(WARMUP + repayments)]

    def repay(i: int) -> None:
        env.run(ledger.apply_repayment, payments[i])

    def bare(i: int) -> None:
        loan = loans[i % len(loans)]
        with transaction(sessions) as session:
            _book_repayment_journal(session, f"{loan.loan_id}:bare:{i:06d}", loan.loan_id)

    samples = _interleaved(repay, bare, repayments)
    samples.notes.append(
        f"{per_loan} payments a loan, {step} days apart, CNY {REPAYMENT:,} each (each books "
        "an accrual journal and a repayment journal)"
    )
    return samples


def measure_eligibility(sessions: sessionmaker[Session], book: Book, *, runs: int) -> Samples:
    """``runs`` applications on the supplier's orders without a loan, each judged in a session
    of its own as the API does, against reading the order by its key in a session of its own."""
    supplier = book.supplier
    orders = book.free_orders

    def application(i: int) -> LoanApplication:
        order = orders[i % len(orders)]
        return LoanApplication(
            loan_id=f"loan_bench_{i:06d}",
            order_id=order.order_id,
            supplier_org_id=supplier.org.id,
            buyer_org_id=order.buyer_org_id,
            amount=Money(amount=Decimal("100000.00"), currency="CNY"),
            term_days=60,
            purpose="raw materials for the order",
            applied_by=supplier.actor,
            applied_at=datetime.now(UTC),
        )

    applications = [application(i) for i in range(WARMUP + runs)]
    problems: set[str] = set()

    def check(i: int) -> None:
        with sessions() as session:
            found = eligibility(session, applications[i])
        problems.update(f"{name}: {rule}" for name, rule in found.problems)

    def read(i: int) -> None:
        with sessions() as session:
            if session.get(Order, applications[i].order_id) is None:
                raise RuntimeError(f"order {applications[i].order_id} is not on file")

    samples = _interleaved(check, read, runs)
    samples.notes.append(
        "eligibility's answer: " + ("; ".join(sorted(problems)) if problems else "no problem")
    )
    return samples


def measure_portfolio(sessions: sessionmaker[Session], book: Book, *, runs: int) -> Samples:
    """``runs`` portfolios in a session each, serialised as the route answers, against counting
    the loans; the portfolio must count every loan of the book."""
    finance = Actor(user_id="usr_bench_finance", org_id=OPERATOR_ORG_ID, roles=(Role.FINANCE,))
    sizes: set[int] = set()

    def portfolio(_: int) -> None:
        with sessions() as session:
            answer = get_portfolio(finance, session)
            answer.model_dump_json()
        sizes.add(sum(c.loans_outstanding for c in answer.currencies))

    def count(_: int) -> None:
        with sessions() as session:
            session.scalar(text("SELECT count(*) FROM loans"))

    samples = _interleaved(portfolio, count, runs, warmup=1)
    if sizes != {book.loans}:
        raise RuntimeError(f"the portfolio counted {sizes} loans; the book has {book.loans}")
    return samples
