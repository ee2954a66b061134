"""An award's facts: the RFQ's quotes side by side, and the award form's choice per line.

The comparison is the buyer's own (``buyer_comparison``, the API's rule: the RFQ's buyer, not
while sealed). The table shows suppliers by lines with each offer's price, landed cost, score
and rank, each supplier's total, and the target price and the saving when the line has one.
The form offers, for each line still to award, exactly what the RFQ's award validator accepts
(``rules.awards.award_problem``): a supplier with an eligible offer whose contract for that
line has not already failed, or ``none``; preselected is the one the process recommended.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.routes.rfq_access import visible_rfq
from api.routes.rfq_comparison import buyer_comparison
from contracts.common import Actor
from contracts.sourcing import ContractStatus, LineComparison
from db.models import Contract, HumanTask, Organisation
from db.sourcing import rfq_input
from rules.awards import NO_AWARD

LINE_PREFIX = "line:"
_RECOMMENDED = re.compile(r"^#1 (\S+):")  # the award task's "#1 <supplier>: landed ..."
_FAILED = (ContractStatus.REJECTED.value, ContractStatus.LAPSED.value)


def award_facts(session: Session, actor: Actor, task: HumanTask) -> dict[str, Any]:
    comparison = buyer_comparison(session, actor, task.subject_id)
    row, _ = visible_rfq(session, actor, task.subject_id)
    targets = {line.line_id: line.target_unit_price for line in rfq_input(row).lines}
    pending = [key.removeprefix(LINE_PREFIX) for key in task.details if key.startswith(LINE_PREFIX)]
    failed = _failed_awards(session, row.id)
    suppliers = sorted({o.supplier_org_id for line in comparison.lines for o in line.offers})
    names = _names(session, suppliers)
    lines = [_line(line, targets.get(line.line_id)) for line in comparison.lines]
    totals = {
        s: sum(
            (
                o.landed_cost
                for line in comparison.lines
                for o in line.offers
                if o.supplier_org_id == s
            ),
            Decimal(0),
        )
        for s in suppliers
    }
    cells = {(line.line_id, o.supplier_org_id): o for line in comparison.lines for o in line.offers}
    choices = [
        _choice(line, failed.get(line.line_id, set()), task.details.get(LINE_PREFIX + line.line_id))
        for line in comparison.lines
        if line.line_id in pending
    ]
    return {
        "template": "facts/award.html",
        "choices_template": "facts/award_choices.html",
        "comparison": comparison,
        "currency": comparison.currency,
        "lines": lines,
        "suppliers": [
            {"org_id": s, "name": names.get(s, s), "total": totals[s]} for s in suppliers
        ],
        "cells": cells,
        "names": names,
        "choices": choices,
        "none_choice": NO_AWARD,
    }


def _line(line: LineComparison, target_unit_price: Decimal | None) -> dict[str, Any]:
    best = next((o for o in line.offers if o.eligible), None)
    target = target_unit_price * line.quantity if target_unit_price is not None else None
    saving = target - best.landed_cost if target is not None and best is not None else None
    return {
        "line_id": line.line_id,
        "description": line.description,
        "quantity": line.quantity,
        "unit": line.unit,
        "target_unit_price": target_unit_price,
        "target": target,
        "best": best,
        "saving": saving,
    }


def _choice(line: LineComparison, failed: set[str], ranked: object) -> dict[str, Any]:
    options = [o for o in line.offers if o.eligible and o.supplier_org_id not in failed]
    match = _RECOMMENDED.match(ranked) if isinstance(ranked, str) else None
    offered = {o.supplier_org_id for o in options}
    if match and match.group(1) in offered:
        recommended = match.group(1)
    else:
        recommended = options[0].supplier_org_id if options else NO_AWARD
    return {
        "line_id": line.line_id,
        "description": line.description,
        "options": options,
        "recommended": recommended,
    }


def _failed_awards(session: Session, rfq_id: str) -> dict[str, set[str]]:
    """Suppliers whose contract failed, per line: the process excludes them from that line."""
    failed: dict[str, set[str]] = {}
    rows = session.execute(
        select(Contract.supplier_org_id, Contract.terms)
        .where(Contract.rfq_id == rfq_id)
        .where(Contract.status.in_(_FAILED))
    )
    for supplier, terms in rows:
        for line in terms.get("lines", []):
            failed.setdefault(str(line["line_id"]), set()).add(supplier)
    return failed


def _names(session: Session, org_ids: list[str]) -> dict[str, str]:
    rows = session.execute(
        select(Organisation.id, Organisation.legal_name).where(Organisation.id.in_(org_ids))
    )
    return {org_id: name for org_id, name in rows}
