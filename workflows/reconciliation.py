"""The daily reconciliation of the loan ledger's bank account with the bank's own statement.

Every morning (China time) the previous day's statement of the platform's supervised account is
compared, movement by movement, with the ledger's postings to the bank account booked that day
(``activities.loans.reconcile_bank``); any difference is recorded and platform finance notified,
as is a day that cannot be reconciled (the next days still are).
One long-running workflow, continued as new each month so its history stays short.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts.common import OPERATOR_ORG_ID, Role
    from contracts.finance import RECONCILIATION_WORKFLOW_ID, ReconcileInput, ReconciliationResult
    from contracts.tasks import NotifyInput
    from workflows import policies

CHINA = timezone(timedelta(hours=8), "CST")
RUN_AT = time(1, 0)  # after the bank's day has closed
DAYS_PER_RUN = 31


@workflow.defn
class ReconciliationWorkflow:
    @workflow.run
    async def run(self) -> None:
        for _ in range(DAYS_PER_RUN):
            now = workflow.now().astimezone(CHINA)
            next_run = datetime.combine(now.date(), RUN_AT, tzinfo=CHINA)
            if next_run <= now:
                next_run += timedelta(days=1)
            await workflow.sleep(next_run - now)
            day = (next_run - timedelta(days=1)).date()
            try:
                await policies.call(
                    "reconcile_bank",
                    ReconcileInput(day=day),
                    ReconciliationResult,
                    policy=policies.EXTERNAL,
                )
            except ActivityError as failed:
                # A day the bank will not give (its statement refused, say) must not end the
                # reconciliation of every day after it: finance hears of it and runs it by hand.
                await policies.run(
                    "notify",
                    NotifyInput(
                        notification_id=f"{RECONCILIATION_WORKFLOW_ID}:failed:{day.isoformat()}",
                        org_id=OPERATOR_ORG_ID,
                        role=Role.FINANCE,
                        kind="bank_reconciliation_failed",
                        subject_type="reconciliation",
                        subject_id=day.isoformat(),
                        message=(
                            f"The bank reconciliation of {day.isoformat()} failed: "
                            f"{failed.cause or failed}. Run it again with POST "
                            "/finance/reconciliations once the cause is put right."
                        ),
                    ),
                )
        workflow.continue_as_new()
