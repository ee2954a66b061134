"""The daily bank reconciliation's one step: the bank's statement of the platform's supervised
account for a day, compared movement by movement with the ledger's postings to its bank account
booked that day (``rules.bank_reconciliation``). The result is recorded, again on a rerun, and
platform finance is told of any difference. Run by the reconciliation workflow's activity
(``activities.loans``) and by finance on demand (``POST /finance/reconciliations``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OPERATOR_ORG_ID, Role
from contracts.finance import ReconcileInput, ReconciliationResult
from contracts.tasks import NotifyInput
from db.finance import Account, Journal, Posting, Reconciliation
from db.notifications import store_notification
from db.session import transaction
from gateways.bank import BankClient
from rules.bank_reconciliation import BankMovement, LedgerMovement, reconcile


def reconcile_day(
    sessions: sessionmaker[Session], bank: BankClient, account: str, day: date
) -> ReconciliationResult:
    """Reconcile ``account`` for ``day``: recorded, and finance notified of differences."""
    request = ReconcileInput(day=day)
    statement = bank.statement(account, day)
    movements = [
        BankMovement(e.payment_id, e.reference, e.amount, e.currency) for e in statement.entries
    ]
    with transaction(sessions) as session:
        rows = session.execute(
            select(Journal.id, Journal.bank_reference, Posting.currency, func.sum(Posting.amount))
            .join(Posting, Posting.journal_id == Journal.id)
            .where(Journal.booked_on == request.day, Posting.account == Account.BANK.value)
            .group_by(Journal.id, Journal.bank_reference, Posting.currency)
            .order_by(Journal.id)
        )
        ledger = [LedgerMovement(j, ref, amount, cur) for j, ref, cur, amount in rows]
        result = reconcile(ledger, movements)
        values = {
            "run_at": datetime.now(UTC),
            "matched": result.matched,
            "differences": {"items": list(result.differences)},
        }
        session.execute(
            insert(Reconciliation)
            .values(day=request.day, **values)
            .on_conflict_do_update(index_elements=[Reconciliation.day], set_=values)
        )
        if result.differences:
            store_notification(session, _differences_notice(request, result.differences))
    return ReconciliationResult(
        day=request.day, matched=result.matched, differences=result.differences
    )


def _differences_notice(request: ReconcileInput, differences: tuple[str, ...]) -> NotifyInput:
    return NotifyInput(
        notification_id=f"bank_reconciliation:{request.day.isoformat()}:{len(differences)}",
        org_id=OPERATOR_ORG_ID,
        role=Role.FINANCE,
        kind="bank_reconciliation",
        subject_type="reconciliation",
        subject_id=request.day.isoformat(),
        message=(
            f"The bank's statement of {request.day.isoformat()} and the ledger differ in "
            f"{len(differences)} place(s): " + "; ".join(differences)
        ),
    )
