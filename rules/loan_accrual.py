"""What a disbursed loan earns between two days: interest at the contract rate up to its due date,
penalty interest (罚息) from the due date on.

The loan's own terms decide (the rates and the day count stored with them), not today's product,
so a product changed after the offer never reprices a running loan. Penalty interest replaces
the contract rate on the overdue days rather than adding to it (domain-rules.md §4: "the
contract rate plus 30-50%"), and both run on the principal still owed only: interest earns none.

Days are counted 算头不算尾 (rules.day_count): the period from ``accrued_to`` counts its first day
and not its last, so accruing to a day and then on from it counts every day once. Each part is
rounded half up to the cent once, at the end of the period accrued (a loan accrued at each of its
repayments is rounded at each; the ledger books exactly these figures).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rules.day_count import DayCount, accrued_interest

ZERO = Decimal("0.00")


def accrue(
    principal: Decimal,
    *,
    interest_rate: Decimal,
    penalty_rate: Decimal,
    convention: DayCount,
    accrued_to: date,
    due_on: date,
    to_day: date,
) -> tuple[Decimal, Decimal]:
    """(interest, penalty) on ``principal`` from ``accrued_to`` to ``to_day``: interest on the
    days before ``due_on``, penalty interest from ``due_on`` (the first overdue day) on; both
    zero when ``to_day`` is not after ``accrued_to``."""
    if to_day <= accrued_to:
        return ZERO, ZERO
    regular_end = min(max(due_on, accrued_to), to_day)
    interest = accrued_interest(principal, interest_rate, accrued_to, regular_end, convention)
    penalty = accrued_interest(principal, penalty_rate, regular_end, to_day, convention)
    return interest, penalty
