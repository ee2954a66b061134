"""An e-waybill task's facts: the waybill as its decider reads it, and what the rules found.

- ``waybill_safety_review`` (platform logistics safety): the draft the task shows, with the
  warnings the approval is asked for.
- ``waybill_submission`` (the carrier's, or on older orders the supplier's, logistics): the last
  draft of this waybill the order holds, when it is sent back (what the rules found in it, the
  regulator's refusal reasons when the regulator refused it); before any draft, the consignor's
  consignment list the carrier makes it from.

The order is read under the API's rule (``visible_order``), each document under its own
(``readable_document``); a refusal shows the task's details instead (``workbench.facts``). The
violations are the rule check's own (``rules.waybill.check_waybill``): pure, the same the
process's ``check_waybill`` activity ran on the same draft, so the page shows each with its code
and field, not just the line the task's summary carries.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any, TypeVar

from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.deps import read_then_release
from api.platform import Platform
from api.routes.document_access import readable_document
from api.routes.order_access import order_document_ids, visible_order
from contracts.common import Actor
from contracts.consignment import ConsignmentList
from contracts.waybill import EWaybill, Violation, WaybillItem
from db.models import Document, HumanTask, Order
from rules.dangerous_goods import TABLE, class_name
from rules.waybill import check_waybill
from storage.object_store import get_verified
from workbench.i18n import MESSAGES
from workflows.order_filing import WAYBILL_TASK

# What each rule cites, as rules/ word it; a rule citing nothing is the platform's own (the
# page says so). SEGREGATION cites the rulebook the check applied, named by the check itself,
# unless the message says it is platform policy beyond the rulebook (cyanide with an acid).
SOURCES: dict[str, str] = {
    "CREDIT_CODE": "GB 32100-2015",
    "QUALIFICATION": "《危险货物道路运输安全管理办法》（交通运输部令 2019 年第 29 号）；"
    "《道路运输从业人员管理规定》",
    "PLATE_COLOUR": "GA 36-2018",
    "FOOD_SEPARATION": "JT/T 617.7-2018 · ADR 7.5.4 (CV28)",
    "UNKNOWN_UN": TABLE,
    "BAD_PACKING_GROUP": TABLE,
    "FORBIDDEN_GOODS": TABLE,
    "ITEM_MISMATCH": f"{TABLE}; 49 CFR § 172.203(k)",
}
REGULATOR = "regulator: "
M = TypeVar("M", bound=BaseModel)
# The problems a task names are joined with "; ", which messages use too: a problem starts
# with the field path it concerns (or "regulator"), then ": ".
_NEXT_PROBLEM = re.compile(r"; (?=(?:regulator|[a-z_]+(?:\[\d+\])?(?:[.,][a-z_]+(?:\[\d+\])?)*): )")


async def waybill_facts(
    platform: Platform, session: Session, actor: Actor, task: HumanTask
) -> dict[str, Any]:
    number = str(task.details.get("waybill_number", ""))
    drafts, listed = await read_then_release(session, partial(_documents, actor, task, number))
    problems, refusals = _problems(str(task.details.get("problems", "")))
    facts: dict[str, Any] = {
        "template": "facts/waybill.html",
        "number": number,
        "resubmission": task.kind == WAYBILL_TASK,
        "problems": problems,
        "refusals": refusals,
        "waybill": None,
        "consignment": None,
        "unreadable": "",
        "goods": [],
        "violations": [],
        "flagged": set(),
    }
    if drafts:
        facts["document_id"] = drafts[0].id
        try:
            waybill = await _read(platform, drafts[0], EWaybill)
        except (ValueError, ValidationError) as unreadable:
            facts["unreadable"] = str(unreadable)[:500]
            return facts
        return facts | _checked(waybill)
    if listed:
        consignment = await _read(platform, listed[0], ConsignmentList)
        facts |= {"consignment": consignment, "goods": _items(consignment.items)}
        facts["document_id"] = listed[0].id
        return facts
    return {"template": "facts/details.html", "details": task.details}


def _documents(
    actor: Actor, task: HumanTask, number: str, session: Session
) -> tuple[list[Document], list[Document]]:
    """The waybill drafts and consignment lists the task shows, read before the object store
    is (no connection is held meanwhile)."""
    order = visible_order(session, actor, task.subject_id)
    shown = [readable_document(session, actor, i) for i in task.document_ids]
    drafts = [d for d in shown if d.kind == "waybill_draft"]
    if task.kind == WAYBILL_TASK:
        drafts = _last_draft(session, actor, order, number)
    return drafts, [d for d in shown if d.kind == "consignment_list"]


def _last_draft(session: Session, actor: Actor, order: Order, number: str) -> list[Document]:
    """The newest draft of this waybill the order holds (the API names drafts
    ``<number>-r<revision>.json``), if the caller may read it."""
    held = order_document_ids(session, order)
    query = (
        select(Document)
        .where(Document.id.in_(held), Document.kind == "waybill_draft")
        .where(
            or_(
                Document.filename == f"{number}.json",
                Document.filename.startswith(f"{number}-r", autoescape=True),
            )
        )
        .order_by(Document.created_at.desc())
    )
    newest = session.scalars(query.limit(1)).first()
    return [readable_document(session, actor, newest.id)] if newest is not None else []


async def _read(platform: Platform, document: Document, model: type[M]) -> M:
    data = await run_in_threadpool(get_verified, platform.store, document.sha256)
    return model.model_validate_json(data)


def _checked(waybill: EWaybill) -> dict[str, Any]:
    check = check_waybill(waybill)
    violations = [_violation(v, check.rulebook) for v in check.violations]
    flagged = {path for v in check.violations for path in v.field.split(",")}
    return {
        "waybill": waybill,
        "goods": _items(waybill.items),
        "violations": violations,
        "flagged": flagged,
        "rulebook": check.rulebook,
        "small_load": check.small_load,
    }


def _violation(found: Violation, rulebook: str) -> dict[str, Any]:
    key = f"fact_waybill_rule_{found.code.lower()}"
    source = SOURCES.get(found.code)
    if found.code == "SEGREGATION" and "platform policy" not in found.message:
        source = rulebook  # the platform's own warnings beyond the rulebook say so
    return {
        "code": found.code,
        "rule": key if key in MESSAGES else None,
        "field": found.field,
        "message": found.message,
        "severity": found.severity,
        "source": source,
    }


def _items(items: tuple[WaybillItem, ...]) -> list[dict[str, Any]]:
    return [{"item": item, "class_names": _class_names(item.hazard_class)} for item in items]


def _class_names(hazard_class: str) -> tuple[str, str]:
    try:
        return class_name(hazard_class)
    except ValueError:  # an empty or unknown class: the rules name it a violation
        return ("", "")


def _problems(text: str) -> tuple[list[str], list[str]]:
    """What the last round sent back: the rules' and people's problems, and the regulator's
    refusal reasons (``regulator: <reason>``, as the order workflow words them)."""
    parts = [p for p in _NEXT_PROBLEM.split(text) if p.strip()] if text else []
    refusals = [p.removeprefix(REGULATOR) for p in parts if p.startswith(REGULATOR)]
    return [p for p in parts if not p.startswith(REGULATOR)], refusals
