"""A loan task's facts: the credit assessment and what the loan costs.

The loan is read under the API's rule (``visible_loan``) and priced only for those the API
shows the price to (``sees_pricing``: the borrower and platform oversight; the buyer confirming
the receivable sees the amount and the order, not the price). The assessment is the one the
process stored on the loan (``assess_loan``): grade, score, each reason with its effect on the
score, flags; the schedule is the API's (fee, interest, effective APR to the due date).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from api.routes.loan_access import loan_detail, sees_pricing, visible_loan
from contracts.common import Actor
from contracts.finance import CreditAssessment
from db.models import HumanTask
from rules.waybill_parties import china_today


def loan_facts(session: Session, actor: Actor, task: HumanTask) -> dict[str, Any]:
    row = visible_loan(session, actor, task.subject_id)
    priced = sees_pricing(actor, row)
    detail = loan_detail(session, row, priced=priced, today=china_today())
    assessment = (
        CreditAssessment.model_validate(row.assessment) if priced and row.assessment else None
    )
    return {
        "template": "facts/loan.html",
        "loan": detail,
        "assessment": assessment,
        "reasons": [_reason(text) for text in assessment.reasons] if assessment else [],
        "details": task.details,
    }


def _reason(text: str) -> tuple[str, str]:
    """A reason as ``rules.loan_credit`` words it, "<fact>: <effect>", split for the table."""
    fact, _, effect = text.rpartition(": ")
    return (fact, effect) if fact else (text, "")
